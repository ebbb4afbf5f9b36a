import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink } from '../support/smtp-sink.js';
import { formatSite, isBuiltin, listFiles, packageOf, scanImports, type ImportSite } from './dist-imports.js';
import { childEnv, copyApp, PACKAGE_APPS, readTestReport, RECIPIENT, SENDER, type PackageApp } from './package-apps.js';
import { declaredExports, MANIFEST_PATH, readManifest, sorted, type PublicApiManifest } from './public-api.js';
import { describeFailure, runCommand, succeeded, type CommandResult } from './run-command.js';

// Packs the package as `npm publish` would, installs the tarball into applications shaped like the
// ones `nest new` makes (Nest 11 CommonJS tested with Jest, Nest 12 ESM tested with Vitest), runs
// their own test suites under Node 20 and the current LTS, and boots them against a real SMTP
// server, so a missing dependency, a broken `exports` map or a module-format problem fails here
// rather than for a user.

interface Manifest {
  name: string;
  version: string;
  license?: string;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: Record<string, unknown>;
  engines?: Record<string, string>;
  repository?: unknown;
  homepage?: string;
  bugs?: unknown;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

/** Peers every Nest application already has; they must never be bundled as dependencies. */
const HOST_PEERS = ['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata'];
/** The builds and the lib/ folders each leaves out. */
const BUILDS = [
  { dir: 'dist/esm', without: [] as string[] },
  { dir: 'dist/cjs', without: ['cli/'] },
];
/** The second Node of the matrix: the current LTS, from the `node` package on npm. */
const SECOND_NODE = 24;

// Generous ceilings that still catch an accidentally shipped fixture corpus or node_modules.
const MAX_TARBALL_BYTES = 1_500_000;
const MAX_UNPACKED_BYTES = 8_000_000;

const PACK_TIMEOUT = 180_000;
const INSTALL_TIMEOUT = 300_000;
const RUN_TIMEOUT = 120_000;

let work = '';
let tarball = '';
let pack: CommandResult | undefined;
/** The tarball's `package/` folder, extracted. */
let packed = '';
let entries: string[] = [];
let packedManifest: Manifest;
const installs = new Map<PackageApp, CommandResult>();
let nodes: Array<{ label: string; bin: string }> = [];

function optionalPeers(m: Manifest): string[] {
  return Object.entries(m.peerDependenciesMeta ?? {}).filter(([, meta]) => meta.optional).map(([name]) => name);
}

function declared(m: Manifest): Set<string> {
  return new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function majorOf(version: string): number {
  return Number(version.replace(/^v/, '').split('.')[0]);
}

async function mustRun(what: string, file: string, args: string[], cwd: string, timeout: number, env?: NodeJS.ProcessEnv): Promise<CommandResult> {
  const result = await runCommand(file, args, { cwd, timeout, env });
  if (!succeeded(result)) throw new Error(describeFailure(what, result));
  return result;
}

/** The path of a Node binary of the given major version: npm's `node` package, fetched once. */
async function locateNode(major: number): Promise<string> {
  const result = await runCommand('npm', ['exec', '--yes', `--package=node@${major}`, '--', 'node', '-p', 'process.execPath'], {
    cwd: work,
    timeout: INSTALL_TIMEOUT,
    env: childEnv(),
  });
  if (!succeeded(result)) {
    throw new Error(describeFailure(`Node ${major} for the test matrix could not be fetched from npm (the \`node\` package)`, result));
  }
  return result.stdout.trim().split(/\r?\n/).pop()!;
}

/** Entry points of the exports map (`.`, `./webhooks`, …) as the names an application imports. */
function entryPoints(m: Manifest): string[] {
  return Object.keys(m.exports ?? {})
    .filter((key) => key !== './package.json')
    .map((key) => (key === '.' ? m.name : `${m.name}/${key.slice(2)}`));
}

function assertInstalled(app: PackageApp): void {
  const install = installs.get(app);
  if (!install) throw new Error(`${app.label} was not installed (see the beforeAll failure).`);
  const output = `${install.stdout}\n${install.stderr}`;
  if (!succeeded(install)) {
    const hint = /ERESOLVE/.test(output)
      ? `npm could not satisfy ${manifest.name}'s peerDependencies with Nest ${app.nest}: they must accept ^11 || ^12.`
      : undefined;
    throw new Error(describeFailure(`Installing the tarball into the ${app.label} failed`, install, hint));
  }
  if (/ERESOLVE|peer dep(?:endency)? missing|invalid peer/i.test(output)) {
    throw new Error(describeFailure(`Installing into the ${app.label} printed peer dependency warnings`, install));
  }
  const modules = join(app.dir, 'node_modules');
  const nest = readJson<Manifest>(join(modules, '@nestjs/core/package.json'));
  expect(majorOf(nest.version), `the ${app.label} should run on Nest ${app.nest}`).toBe(app.nest);
  const installed = readJson<Manifest>(join(modules, manifest.name, 'package.json'));
  expect(installed.version).toBe(manifest.version);
  const nested = HOST_PEERS.filter((name) => existsSync(join(modules, manifest.name, 'node_modules', name)));
  expect(nested, `${manifest.name} got its own copy of these, so Nest's injection would see two of them`).toEqual([]);
  const pulledIn = optionalPeers(manifest).filter((name) => existsSync(join(modules, name)));
  expect(pulledIn, 'optional peers installed although the app did not ask for them (peerDependenciesMeta.optional?)').toEqual([]);
}

const esmApp = (): PackageApp => PACKAGE_APPS.find((app) => app.module === 'esm')!;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mailroom-package-'));
  const packDir = join(work, 'pack');
  mkdirSync(packDir);

  // An explicit log level keeps the lifecycle banners that show the build ran, even under `npm test -s`.
  pack = await runCommand('npm', ['pack', '--loglevel=notice', '--pack-destination', packDir], { cwd: ROOT, timeout: PACK_TIMEOUT });
  if (!succeeded(pack)) {
    throw new Error(describeFailure('npm pack failed (it runs the `prepack` script, which builds dist/)', pack));
  }
  const tarballs = readdirSync(packDir).filter((name) => name.endsWith('.tgz'));
  if (tarballs.length !== 1) {
    throw new Error(`npm pack should leave exactly one .tgz in ${packDir}, found: ${tarballs.join(', ') || 'none'}.\n${describeFailure('npm pack', pack)}`);
  }
  tarball = join(packDir, tarballs[0]!);

  const listing = await mustRun('Listing the tarball', 'tar', ['-tzf', tarball], work, 30_000);
  entries = listing.stdout.split(/\r?\n/).filter(Boolean).map((entry) => entry.replace(/^\.\//, ''));
  const extractDir = join(work, 'extracted');
  mkdirSync(extractDir);
  await mustRun('Extracting the tarball', 'tar', ['-xzf', tarball, '-C', extractDir], work, 30_000);
  packed = join(extractDir, 'package');
  packedManifest = readJson<Manifest>(join(packed, 'package.json'));

  for (const app of PACKAGE_APPS) copyApp(app, join(work, app.name), tarball);
  // The installs download Nest and the test runners; side by side they take about half as long.
  const [second] = await Promise.all([
    locateNode(SECOND_NODE),
    ...PACKAGE_APPS.map(async (app) => {
      installs.set(app, await runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
        cwd: app.dir,
        timeout: INSTALL_TIMEOUT,
        env: childEnv(),
      }));
    }),
  ]);
  nodes = [{ label: `Node ${majorOf(process.version)}`, bin: process.execPath }, { label: `Node ${SECOND_NODE}`, bin: second as string }];
}, PACK_TIMEOUT + INSTALL_TIMEOUT + 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true, maxRetries: 3 });
});

describe('the packed tarball', () => {
  it('is built by `npm pack` through the prepack script', () => {
    const lifecycle = (['prepare', 'prepack'] as const).find((name) => /\b(?:build|tsc)\b/.test(manifest.scripts?.[name] ?? ''));
    expect(lifecycle, 'package.json needs a `prepare` or `prepack` script that builds dist/').toBeDefined();
    const output = `${pack!.stdout}\n${pack!.stderr}`;
    expect(output, `npm pack did not run the ${lifecycle} script`).toContain(`> ${manifest.name}@${manifest.version} ${lifecycle}`);
  });

  it('contains both builds, the licence and the docs, and nothing users do not need', () => {
    const files = entries.filter((entry) => !entry.endsWith('/'));
    for (const required of ['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'dist/esm/index.js', 'dist/esm/index.d.ts', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']) {
      expect(files, `${required} is missing from the tarball`).toContain(`package/${required}`);
    }
    const forbidden = files.filter((entry) =>
      /^package\/(?:test|sample-app|bench|lib|scripts|coverage|node_modules|\.tmp)\//.test(entry)
      || /\.tsbuildinfo$|\.tgz$|(?:^|\/)tsconfig[^/]*\.json$|(?:^|\/)vitest\.config\./.test(entry)
      || (/\.[cm]?ts$/.test(entry) && !/\.d\.[cm]?ts$/.test(entry)));
    expect(forbidden, 'files that should not be published').toEqual([]);
    expect(readJson<{ type?: string }>(join(packed, 'dist/cjs/package.json')).type, 'dist/cjs must be marked CommonJS').toBe('commonjs');
  });

  it('ships a compiled file for every source file in each build, and no leftovers from deleted sources', () => {
    const sources = listFiles(join(ROOT, 'lib'), (name) => /\.ts$/.test(name) && !/\.d\.ts$/.test(name))
      .map((path) => path.slice(join(ROOT, 'lib').length + 1).split('\\').join('/').replace(/\.ts$/, '.js'));
    for (const build of BUILDS) {
      const expected = sources.filter((file) => !build.without.some((prefix) => file.startsWith(prefix)));
      const compiled = entries
        .filter((entry) => entry.startsWith(`package/${build.dir}/`) && entry.endsWith('.js'))
        .map((entry) => entry.slice(`package/${build.dir}/`.length));
      expect(expected.filter((file) => !compiled.includes(file)), `lib/ files without ${build.dir}/ output`).toEqual([]);
      expect(compiled.filter((file) => !expected.includes(file)),
        `${build.dir}/ files without a lib/ source (the build does not clear dist/ first?)`).toEqual([]);
    }
  });

  it('has a sane size', () => {
    const tarballBytes = statSync(tarball).size;
    const unpackedBytes = listFiles(packed, () => true).reduce((sum, path) => sum + statSync(path).size, 0);
    expect(tarballBytes, `tarball is ${tarballBytes} bytes`).toBeLessThan(MAX_TARBALL_BYTES);
    expect(unpackedBytes, `unpacked package is ${unpackedBytes} bytes`).toBeLessThan(MAX_UNPACKED_BYTES);
    expect(tarballBytes).toBeGreaterThan(1_000);
  });

  it('gives every entry point an import and a require condition, each with its types, at files that exist', () => {
    expect(packedManifest.exports, 'package.json needs an exports map').toBeTruthy();
    for (const [key, target] of Object.entries(packedManifest.exports!)) {
      if (key === './package.json') continue;
      const conditions = target as Record<string, Record<string, string>>;
      for (const condition of ['import', 'require']) {
        expect(conditions[condition], `exports["${key}"] needs "${condition}": { types, default }`).toEqual({
          types: expect.stringMatching(/\.d\.ts$/),
          default: expect.stringMatching(/\.js$/),
        });
      }
    }
    const targets: string[] = [];
    const walk = (value: unknown, where: string) => {
      if (typeof value === 'string') targets.push(`${where} → ${value}`);
      else if (value && typeof value === 'object') {
        for (const [key, inner] of Object.entries(value)) walk(inner, `${where}[${JSON.stringify(key)}]`);
      }
    };
    walk(packedManifest.exports, 'exports');
    walk(packedManifest.main, 'main');
    walk(packedManifest.types, 'types');
    walk(packedManifest.bin, 'bin');
    const missing = targets.filter((target) => !existsSync(join(packed, target.split(' → ')[1]!)));
    expect(missing, 'package.json points at files the tarball does not contain').toEqual([]);
  });

  it('says where it comes from and what it runs on', () => {
    expect(packedManifest.license).toBe('MIT');
    expect(readFileSync(join(packed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    expect(packedManifest.repository, 'repository').toBeTruthy();
    expect(packedManifest.homepage, 'homepage').toBeTruthy();
    expect(packedManifest.bugs, 'bugs').toBeTruthy();
    // The matrix below runs Node 20 and the current LTS: the floor must be a Node 20.
    expect(packedManifest.engines?.node).toMatch(/^>=\s*20\.\d+/);
  });

  it('declares Nest, rxjs and reflect-metadata as peers, never as dependencies, and every other peer as optional', () => {
    for (const name of HOST_PEERS) {
      expect(packedManifest.dependencies?.[name], `${name} must not be a dependency (it would give the app a second copy)`).toBeUndefined();
      expect(packedManifest.peerDependencies?.[name], `${name} must be a peerDependency`).toBeTruthy();
    }
    const optional = optionalPeers(packedManifest);
    const required = Object.keys(packedManifest.peerDependencies ?? {}).filter((name) => !HOST_PEERS.includes(name) && !optional.includes(name));
    expect(required, 'peers npm would install into every app; mark them optional in peerDependenciesMeta').toEqual([]);
  });

  it.each(BUILDS)('imports at run time only declared dependencies, and optional peers only lazily ($dir)', ({ dir }) => {
    const known = declared(packedManifest);
    const optional = new Set(optionalPeers(packedManifest));
    const sites = scanImports(join(packed, dir), (name) => /\.[cm]?js$/.test(name));
    const undeclared: ImportSite[] = [];
    const eagerOptional: ImportSite[] = [];
    for (const site of sites) {
      const name = packageOf(site.specifier);
      if (!name || isBuiltin(site.specifier)) continue;
      if (name === packedManifest.name) continue;
      if (!known.has(name)) undeclared.push(site);
      else if (optional.has(name) && site.kind !== 'dynamic') eagerOptional.push(site);
    }
    expect(sites.some((site) => site.specifier === '@nestjs/common'), 'the import scan found nothing; is the pattern broken?').toBe(true);
    expect.soft(undeclared.map(formatSite), 'imports of packages missing from dependencies / peerDependencies').toEqual([]);
    expect.soft(eagerOptional.map(formatSite), 'optional peers must be loaded with import() so apps without them still start').toEqual([]);
  });

  it('ships source maps whose sources a debugger can open', () => {
    const dangling: string[] = [];
    for (const path of listFiles(join(packed, 'dist'), (name) => /\.[cm]?js\.map$/.test(name))) {
      const map = readJson<{ sources: string[]; sourceRoot?: string; sourcesContent?: Array<string | null> }>(path);
      map.sources.forEach((source, i) => {
        if (typeof map.sourcesContent?.[i] === 'string') return;
        if (!existsSync(join(dirname(path), map.sourceRoot ?? '', source))) dangling.push(`${path.slice(packed.length + 1)} → ${source}`);
      });
    }
    expect(dangling.slice(0, 5), `${dangling.length} source maps point at files the tarball does not contain `
      + '(set "inlineSources": true in tsconfig.build.json, or stop emitting maps)').toEqual([]);
  });

  it('refers in its type declarations only to declared packages', () => {
    const known = declared(packedManifest);
    const sites = scanImports(join(packed, 'dist'), (name) => /\.d\.[cm]?ts$/.test(name));
    const undeclared = sites.filter((site) => {
      const name = packageOf(site.specifier);
      if (!name || isBuiltin(site.specifier) || name === packedManifest.name) return false;
      if (site.kind === 'reference' && name === 'node') return false;
      return !known.has(name) && !known.has(name.replace(/^@types\//, ''));
    });
    expect(undeclared.map(formatSite), 'type imports a user\'s compiler cannot resolve').toEqual([]);
  });
});

describe('the public API', () => {
  /** What every entry point exports, read from the installed package through import, require and the .d.ts of each build. */
  async function exportedNames(): Promise<{ esm: PublicApiManifest; cjs: PublicApiManifest; esmTypes: PublicApiManifest; cjsTypes: PublicApiManifest }> {
    const app = esmApp();
    assertInstalled(app);
    const specifiers = entryPoints(packedManifest);
    const script = [
      "import { createRequire } from 'node:module';",
      'const require = createRequire(import.meta.url);',
      'const out = { esm: {}, cjs: {} };',
      'for (const specifier of JSON.parse(process.env.SPECIFIERS)) {',
      '  out.esm[specifier] = Object.keys(await import(specifier)).filter((k) => k !== "default").sort();',
      '  out.cjs[specifier] = Object.keys(require(specifier)).filter((k) => k !== "__esModule").sort();',
      '}',
      'console.log(JSON.stringify(out));',
    ].join('\n');
    const run = await mustRun('Listing the exported names', process.execPath, ['--input-type=module', '-e', script], app.dir, 30_000,
      childEnv({ SPECIFIERS: JSON.stringify(specifiers) }));
    const runtime = JSON.parse(run.stdout.trim()) as Record<'esm' | 'cjs', Record<string, string[]>>;
    const installed = join(app.dir, 'node_modules', manifest.name);
    const types = (condition: 'import' | 'require'): PublicApiManifest => Object.fromEntries(specifiers.map((specifier) => {
      const key = specifier === manifest.name ? '.' : `./${specifier.slice(manifest.name.length + 1)}`;
      const dts = (packedManifest.exports![key] as Record<string, { types: string }>)[condition]!.types;
      return [specifier, { values: [], types: declaredExports(readFileSync(join(installed, dts), 'utf8')) }];
    }));
    const asManifest = (names: Record<string, string[]>): PublicApiManifest =>
      Object.fromEntries(Object.entries(names).map(([specifier, values]) => [specifier, { values, types: [] }]));
    return { esm: asManifest(runtime.esm), cjs: asManifest(runtime.cjs), esmTypes: types('import'), cjsTypes: types('require') };
  }

  it('is what test/package/public-api.json lists, entry point by entry point, for import and require alike', async () => {
    const { esm, cjs, esmTypes, cjsTypes } = await exportedNames();
    const actual: PublicApiManifest = {};
    for (const specifier of Object.keys(esm)) {
      const values = sorted(esm[specifier]!.values);
      const all = esmTypes[specifier]!.types;
      actual[specifier] = { values, types: all.filter((name) => !values.includes(name)) };
      expect(cjs[specifier]!.values, `require('${specifier}') exports other names than import`).toEqual(values);
      expect(cjsTypes[specifier]!.types, `the CommonJS types of ${specifier} differ from the ES module types`).toEqual(all);
      expect(values.filter((name) => !all.includes(name)), `${specifier}: run-time exports missing from its .d.ts`).toEqual([]);
    }
    // To accept a deliberate change, write the printed value into public-api.json (and the README's API section).
    expect(actual, `the exported names differ from ${MANIFEST_PATH}`).toEqual(readManifest());
  });

  it('behaves alike through import and require, even with both loaded in one process', async () => {
    const app = esmApp();
    assertInstalled(app);
    const script = `
import 'reflect-metadata';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
const esm = await import('nestjs-mailroom');
const cjs = createRequire(import.meta.url)('nestjs-mailroom');
async function send(lib) {
  class M {}
  Module({ imports: [lib.MailerModule.forRoot({ transport: 'memory://', defaults: { from: 'app@example.com' }, templates: { dir: './src/templates' } })] })(M);
  const ctx = await NestFactory.createApplicationContext(M, { logger: false });
  try {
    const mailer = ctx.get(lib.MailerService);
    const result = await mailer.send({ to: 'ada@example.org', template: 'welcome', context: { name: 'Ada', shop: 'Both' }, messageId: '<same@example.com>' });
    const [mail] = mailer.getTransport().sent;
    const refused = await mailer.send({ to: 'not an address', text: 'x' }).catch((e) => e);
    return { result, subject: mail.subject, html: mail.html, text: mail.text, refused: { name: refused.name, code: refused.code, message: refused.message,
      esmClass: refused instanceof esm.InvalidMailError, cjsClass: refused instanceof cjs.InvalidMailError, wrongClass: refused instanceof esm.TransportError,
      guards: [esm.isMailerError(refused), cjs.isMailerError(refused), esm.isTransportError(refused)] } };
  } finally {
    await ctx.close();
  }
}
const bounce = readFileSync(process.env.BOUNCE);
console.log(JSON.stringify({
  sameClass: esm.MailerService === cjs.MailerService,
  tokens: [esm.MAILER_DELIVERY_SINKS === cjs.MAILER_DELIVERY_SINKS, esm.MAILER_MODULE_OPTIONS === cjs.MAILER_MODULE_OPTIONS],
  esm: await send(esm),
  cjs: await send(cjs),
  classify: [esm.classifySmtpReply(550, '5.1.1 User unknown'), cjs.classifySmtpReply(550, '5.1.1 User unknown')],
  bounces: [await esm.parseBounce(bounce), await cjs.parseBounce(bounce)],
}));`;
    const bounce = fileURLToPath(new URL('../fixtures/bounces/postfix-dsn.eml', import.meta.url));
    const file = join(app.dir, 'dual-entry.mjs');
    writeFileSync(file, script);
    const run = await mustRun('Loading the ES module and CommonJS builds side by side', process.execPath, [file], app.dir, RUN_TIMEOUT,
      childEnv({ BOUNCE: bounce }));
    const report = JSON.parse(run.stdout.trim().split(/\r?\n/).pop()!) as Record<string, any>;
    // Two copies of the classes (the dual-package hazard), but nothing that identifies state is split:
    expect(report.sameClass).toBe(false);
    expect(report.tokens).toEqual([true, true]);
    expect(report.esm).toEqual(report.cjs);
    expect(report.esm.result).toMatchObject({ messageId: '<same@example.com>', accepted: ['ada@example.org'], transport: 'default' });
    expect(report.esm.subject).toBe('Welcome to Both, Ada');
    // An error of either build is an instance of the other build's classes, and of no other class.
    expect(report.esm.refused).toMatchObject({ name: 'InvalidMailError', code: 'MAILER_INVALID_MAIL', esmClass: true, cjsClass: true, wrongClass: false, guards: [true, true, false] });
    expect(report.classify[0]).toEqual(report.classify[1]);
    expect(report.classify[0]).toMatchObject({ reason: 'userunknown', bounce: 'hard' });
    expect(report.bounces[0]).toEqual(report.bounces[1]);
    expect(report.bounces[0]).toHaveLength(1);
  }, RUN_TIMEOUT);
});

describe.each(PACKAGE_APPS)('$label', (app) => {
  it('installs the tarball and type-checks against its types', async () => {
    assertInstalled(app);
    await mustRun(`Type-checking the ${app.label} (tsc --noEmit)`, process.execPath, ['node_modules/typescript/bin/tsc', '--noEmit', '-p', 'tsconfig.json'],
      app.dir, RUN_TIMEOUT, childEnv());
  }, RUN_TIMEOUT);

  for (const suite of app.suites) {
    for (const index of [0, 1]) {
      it(`passes its own ${suite.label} tests on the ${index === 0 ? 'machine\'s Node' : `Node ${SECOND_NODE}`}`, async () => {
        assertInstalled(app);
        const node = nodes[index]!;
        const report = join(app.dir, `report-${suite.label.replace(/\W+/g, '-')}-${index}.json`);
        const run = await runCommand(node.bin, suite.args(report), { cwd: app.dir, timeout: RUN_TIMEOUT, env: childEnv() });
        if (!succeeded(run) || !existsSync(report)) throw new Error(describeFailure(`The ${app.label}'s ${suite.label} tests failed on ${node.label}`, run));
        const counts = readTestReport(report);
        expect(counts.numFailedTests).toBe(0);
        expect(counts.numPendingTests, 'skipped tests in the app').toBe(0);
        expect(counts.numPassedTests, 'the app\'s tests did not run').toBeGreaterThanOrEqual(2);
        expect(counts.numPassedTests).toBe(counts.numTotalTests);
      }, RUN_TIMEOUT);
    }
  }

  for (const index of [0, 1]) it(`builds, boots and sends a templated mail over SMTP on the ${index === 0 ? 'machine\'s Node' : `Node ${SECOND_NODE}`}`, async () => {
    assertInstalled(app);
    const node = nodes[index]!;
    await mustRun(`Building the ${app.label}`, process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], app.dir, RUN_TIMEOUT, childEnv());
    // What `"assets": ["templates/**/*"]` in nest-cli.json does for a `nest build`.
    await mustRun('Copying the templates', 'cp', ['-R', 'src/templates', 'dist/'], app.dir, 10_000);
    const sink = await startSmtpSink({ starttls: false });
    try {
      const run = await runCommand(node.bin, ['dist/main.js', RECIPIENT], {
        cwd: app.dir,
        env: childEnv({ MAILER_URL: `${sink.url}?tlsMode=none` }),
        timeout: RUN_TIMEOUT,
      });
      if (!succeeded(run)) throw new Error(describeFailure(`The ${app.label} failed on ${node.label}`, run));
      const report = JSON.parse(run.stdout.trim().split(/\r?\n/).pop() ?? '') as { nest: string; mailroom: string; result: Record<string, unknown> };
      expect(majorOf(report.nest)).toBe(app.nest);
      const build = app.module === 'esm' ? 'dist/esm' : 'dist/cjs';
      expect(realpathSync(report.mailroom)).toBe(realpathSync(join(app.dir, 'node_modules', manifest.name, build, 'index.js')));
      expect(report.result).toMatchObject({ transport: 'default', accepted: [RECIPIENT], rejected: [] });

      const [mail] = await sink.waitFor(1);
      expect(mail!.envelope).toEqual({ from: SENDER, to: [RECIPIENT] });
      expect(mail!.parsed.messageId).toBe(report.result.messageId);
      expect(mail!.parsed.subject).toBe(`Welcome to ${app.shop}, Ada`);
      const html = String(mail!.parsed.html);
      expect(html).toContain('Welcome, Ada!');
      expect(html).toContain(`The ${app.shop} team`);
      // The layout's <style> was inlined, so the native CSS inliner loaded in the installed app.
      expect(html).toMatch(/<p[^>]*style="[^"]*color:\s*#0a7/i);
      expect(mail!.parsed.text).toContain('Welcome, Ada!');
    } finally {
      await sink.stop();
    }
  }, RUN_TIMEOUT + 30_000);
});

describe('the installed command', () => {
  const bin = (name: string) => join(esmApp().dir, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
  const dsn = fileURLToPath(new URL('../fixtures/bounces/postfix-dsn.eml', import.meta.url));
  const fixtures = fileURLToPath(new URL('../fixtures/bounces/', import.meta.url));

  it('is linked as nestjs-mailroom and as mailroom, and runs through the link', async () => {
    assertInstalled(esmApp());
    expect(packedManifest.bin).toEqual({ 'nestjs-mailroom': expect.any(String), mailroom: expect.any(String) });
    const target = (packedManifest.bin as Record<string, string>)['nestjs-mailroom']!;
    expect(readFileSync(join(packed, target), 'utf8').startsWith('#!/usr/bin/env node'), `${target} needs a node shebang`).toBe(true);
    for (const name of ['nestjs-mailroom', 'mailroom']) {
      const help = await runCommand(bin(name), ['--help'], { cwd: esmApp().dir, timeout: 30_000 });
      if (!succeeded(help)) throw new Error(describeFailure(`${name} --help`, help));
      expect(help.stdout, `${name} printed nothing: started through a symlink, it does not see itself as the main module`)
        .toContain('Usage: nestjs-mailroom');
      const version = await runCommand(bin(name), ['--version'], { cwd: esmApp().dir, timeout: 30_000 });
      expect(version.stdout.trim()).toBe(manifest.version);
    }
    const bounce = await runCommand(bin('nestjs-mailroom'), ['bounce', dsn], { cwd: esmApp().dir, timeout: 30_000 });
    if (!succeeded(bounce)) throw new Error(describeFailure('nestjs-mailroom bounce', bounce));
    const line = JSON.parse(bounce.stdout.trim()) as { results: Array<{ recipient: string; status: string }> };
    expect(line.results).toEqual([expect.objectContaining({ recipient: 'ghost@receiver.test', status: '5.1.1' })]);
  });

  it('reads standard input for "-", and stops quietly when the reader closes the pipe', async () => {
    assertInstalled(esmApp());
    const piped = await runCommand('sh', ['-c', `"${bin('nestjs-mailroom')}" bounce - < "${dsn}"`], { cwd: esmApp().dir, timeout: 30_000 });
    if (!succeeded(piped)) throw new Error(describeFailure('nestjs-mailroom bounce -', piped));
    expect(JSON.parse(piped.stdout.trim())).toMatchObject({ file: '-', results: [{ recipient: 'ghost@receiver.test' }] });

    // Many lines, of which `head` reads one: the rest meet a closed pipe.
    const many = Array.from({ length: 40 }, () => fixtures).map((path) => `"${path}"`).join(' ');
    const closed = await runCommand('bash', ['-c', `set -o pipefail; "${bin('nestjs-mailroom')}" bounce ${many} | head -1`], { cwd: esmApp().dir, timeout: 60_000 });
    expect(closed.stdout.trim().split('\n')).toHaveLength(1);
    expect(closed.stderr, 'a closed pipe must not print a stack trace').toBe('');
    expect(closed.code).toBe(0);
  }, 90_000);

  it('parses on worker threads with --jobs, printing what one thread prints', async () => {
    assertInstalled(esmApp());
    const one = await runCommand(bin('nestjs-mailroom'), ['bounce', fixtures], { cwd: esmApp().dir, timeout: 60_000 });
    if (!succeeded(one)) throw new Error(describeFailure('nestjs-mailroom bounce', one));
    const two = await runCommand(bin('nestjs-mailroom'), ['bounce', '--jobs', '2', fixtures], { cwd: esmApp().dir, timeout: 60_000 });
    if (!succeeded(two)) throw new Error(describeFailure('nestjs-mailroom bounce --jobs 2', two));
    expect(one.stdout.trim().split('\n').length).toBeGreaterThan(10);
    expect(two.stdout).toBe(one.stdout);
  }, 90_000);
});

describe('the installed package', () => {
  it('resolves every dependency path that dist/ imports, as ESM and CommonJS resolve it', async () => {
    const app = esmApp();
    assertInstalled(app);
    const installedAt = join(app.dir, 'node_modules', manifest.name);
    const optional = new Set(optionalPeers(manifest));
    for (const build of BUILDS) {
      const specifiers = [...new Set(scanImports(join(installedAt, build.dir), (name) => /\.[cm]?js$/.test(name))
        .map((site) => site.specifier)
        .filter((specifier) => {
          const name = packageOf(specifier);
          return name && !isBuiltin(specifier) && !optional.has(name);
        }))].sort();
      expect(specifiers.length).toBeGreaterThan(0);
      const resolve = build.dir.endsWith('cjs')
        ? "const resolve = (s) => require.resolve(s); const require = (await import('node:module')).createRequire(process.cwd() + '/dist/cjs/index.js');"
        : 'const resolve = (s) => fileURLToPath(import.meta.resolve(s));';
      const script = [
        "import { existsSync } from 'node:fs';",
        "import { fileURLToPath } from 'node:url';",
        resolve,
        'const problems = [];',
        'for (const specifier of JSON.parse(process.env.SPECIFIERS)) {',
        '  try {',
        '    const path = resolve(specifier);',
        "    if (path.startsWith('/') && !existsSync(path)) problems.push(`${specifier} → ${path}: no such file`);",
        '  } catch (error) {',
        '    problems.push(`${specifier}: ${error.code ?? error.message}`);',
        '  }',
        '}',
        'console.log(JSON.stringify(problems));',
      ].join('\n');
      // An eval'd module resolves from the working directory, here the installed package itself.
      const run = await runCommand(process.execPath, ['--input-type=module', '-e', script], {
        cwd: installedAt,
        env: childEnv({ SPECIFIERS: JSON.stringify(specifiers) }),
        timeout: 30_000,
      });
      if (!succeeded(run)) throw new Error(describeFailure(`Resolving the imports of ${build.dir}/`, run));
      expect(JSON.parse(run.stdout.trim()), `imports of ${build.dir}/ that do not resolve in an installed app`).toEqual([]);
    }
  });
});
