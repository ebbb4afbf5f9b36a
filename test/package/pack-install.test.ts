import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSmtpSink } from '../support/smtp-sink.js';
import { RECIPIENT, SENDER, writeConsumerApp, type ConsumerApp } from './consumer-app.js';
import { formatSite, isBuiltin, listFiles, packageOf, scanImports, type ImportSite } from './dist-imports.js';
import { describeFailure, runCommand, succeeded, type CommandResult } from './run-command.js';

// Packs the package as `npm publish` would, installs the tarball from the registry's point of view
// into two throwaway applications and boots them, so a missing dependency, a broken `exports` map
// or a module-format problem fails here rather than for a user.

interface Manifest {
  name: string;
  version: string;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

/** Peers every Nest application already has; they must never be bundled as dependencies. */
const HOST_PEERS = ['@nestjs/common', '@nestjs/core', 'rxjs', 'reflect-metadata'];

// Generous ceilings that still catch an accidentally shipped fixture corpus or node_modules.
const MAX_TARBALL_BYTES = 1_000_000;
const MAX_UNPACKED_BYTES = 5_000_000;

const PACK_TIMEOUT = 180_000;
const INSTALL_TIMEOUT = 300_000;
const APP_TIMEOUT = 60_000;

let work = '';
let tarball = '';
let pack: CommandResult | undefined;
/** The tarball's `package/` folder, extracted. */
let packed = '';
let entries: string[] = [];
let packedManifest: Manifest;
const installs = new Map<ConsumerApp, CommandResult>();

const apps: ConsumerApp[] = [
  { label: 'Nest 12 ESM app', nest: 12, module: 'esm', dir: '', entry: 'app.mjs', shop: 'Mailroom ESM' },
  { label: 'Nest 11 CommonJS app', nest: 11, module: 'commonjs', dir: '', entry: 'app.cjs', shop: 'Mailroom CJS' },
];

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
  return Number(version.split('.')[0]);
}

async function mustRun(what: string, file: string, args: string[], cwd: string, timeout: number): Promise<CommandResult> {
  const result = await runCommand(file, args, { cwd, timeout });
  if (!succeeded(result)) throw new Error(describeFailure(what, result));
  return result;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'mailroom-package-'));
  const packDir = join(work, 'pack');
  mkdirSync(packDir);

  // An explicit log level keeps the lifecycle banners that show the build ran, even under `npm test -s`.
  pack = await runCommand('npm', ['pack', '--loglevel=notice', '--pack-destination', packDir], { cwd: ROOT, timeout: PACK_TIMEOUT });
  if (!succeeded(pack)) {
    throw new Error(describeFailure('npm pack failed (it runs the `prepare` script, which builds dist/)', pack));
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

  for (const app of apps) {
    app.dir = join(work, `nest${app.nest}-${app.module}`);
    writeConsumerApp(app, tarball);
  }
  // Both installs download Nest; running them side by side roughly halves the wait.
  await Promise.all(apps.map(async (app) => {
    installs.set(app, await runCommand('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline'], {
      cwd: app.dir,
      timeout: INSTALL_TIMEOUT,
    }));
  }));
}, PACK_TIMEOUT + INSTALL_TIMEOUT + 120_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true, maxRetries: 3 });
});

describe('the packed tarball', () => {
  it('is built by `npm pack` through the prepare (or prepack) script', () => {
    const lifecycle = (['prepare', 'prepack'] as const).find((name) => /\b(?:build|tsc)\b/.test(manifest.scripts?.[name] ?? ''));
    expect(lifecycle, 'package.json needs a `prepare` or `prepack` script that builds dist/').toBeDefined();
    const output = `${pack!.stdout}\n${pack!.stderr}`;
    expect(output, `npm pack did not run the ${lifecycle} script`).toContain(`> ${manifest.name}@${manifest.version} ${lifecycle}`);
  });

  it('contains the build output and nothing from the repository that users do not need', () => {
    const files = entries.filter((entry) => !entry.endsWith('/'));
    for (const required of ['package/package.json', 'package/dist/index.js', 'package/dist/index.d.ts']) {
      expect(files, `${required} is missing from the tarball`).toContain(required);
    }
    const forbidden = files.filter((entry) =>
      /^package\/(?:test|sample-app|bench|lib|coverage|node_modules|\.tmp)\//.test(entry)
      || /\.tsbuildinfo$|\.tgz$|(?:^|\/)tsconfig[^/]*\.json$|(?:^|\/)vitest\.config\./.test(entry)
      || (/\.[cm]?ts$/.test(entry) && !/\.d\.[cm]?ts$/.test(entry)));
    expect(forbidden, 'files that should not be published').toEqual([]);
  });

  it('ships a compiled file for every source file and no leftovers from deleted sources', () => {
    const sources = listFiles(join(ROOT, 'lib'), (name) => /\.ts$/.test(name) && !/\.d\.ts$/.test(name))
      .map((path) => path.slice(join(ROOT, 'lib').length + 1).split('\\').join('/').replace(/\.ts$/, '.js'));
    const compiled = entries
      .filter((entry) => entry.startsWith('package/dist/') && entry.endsWith('.js'))
      .map((entry) => entry.slice('package/dist/'.length));
    expect(sources.filter((file) => !compiled.includes(file)), 'lib/ files without dist/ output').toEqual([]);
    expect(compiled.filter((file) => !sources.includes(file)),
      'dist/ files without a lib/ source (the build does not clear dist/ first?)').toEqual([]);
  });

  it('has a sane size', () => {
    const tarballBytes = statSync(tarball).size;
    const unpackedBytes = listFiles(packed, () => true).reduce((sum, path) => sum + statSync(path).size, 0);
    expect(tarballBytes, `tarball is ${tarballBytes} bytes`).toBeLessThan(MAX_TARBALL_BYTES);
    expect(unpackedBytes, `unpacked package is ${unpackedBytes} bytes`).toBeLessThan(MAX_UNPACKED_BYTES);
    expect(tarballBytes).toBeGreaterThan(1_000);
  });

  it('points main, types, bin and every exports target at files that exist', () => {
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
    expect(packedManifest.exports, 'package.json needs an exports map').toBeTruthy();
    const missing = targets.filter((target) => {
      const path = target.split(' → ')[1]!;
      return path.includes('*') ? false : !existsSync(join(packed, path));
    });
    expect(missing, 'package.json points at files the tarball does not contain').toEqual([]);
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

  it('imports at run time only declared dependencies, and optional peers only lazily', () => {
    const known = declared(packedManifest);
    const optional = new Set(optionalPeers(packedManifest));
    const sites = scanImports(join(packed, 'dist'), (name) => /\.[cm]?js$/.test(name));
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

function assertInstalled(app: ConsumerApp): void {
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

describe.each(apps)('$label', (app) => {
  it('installs the tarball, boots and sends a templated mail over SMTP', async () => {
    assertInstalled(app);
    const sink = await startSmtpSink({ starttls: false });
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, MAILER_URL: `${sink.url}?tlsMode=none` };
      delete env.NODE_OPTIONS;
      const run = await runCommand(process.execPath, [app.entry], { cwd: app.dir, env, timeout: APP_TIMEOUT });
      if (!succeeded(run)) throw new Error(describeFailure(`The ${app.label} failed`, run));

      const line = run.stdout.trim().split(/\r?\n/).pop() ?? '';
      let report: { nest: string; mailroom: string; result: Record<string, unknown> };
      try {
        report = JSON.parse(line) as typeof report;
      } catch {
        throw new Error(describeFailure(`The ${app.label} did not print its SendResult as JSON`, run));
      }
      expect(majorOf(report.nest)).toBe(app.nest);
      expect(realpathSync(report.mailroom)).toBe(realpathSync(join(app.dir, 'node_modules', manifest.name, 'dist/index.js')));

      const { result } = report;
      expect(result).toMatchObject({ transport: 'default', accepted: [RECIPIENT], rejected: [] });
      expect(result.messageId).toMatch(/^<[^<>\s]+@[^<>\s]+>$/);

      const [mail] = await sink.waitFor(1);
      expect(mail!.envelope).toEqual({ from: SENDER, to: [RECIPIENT] });
      expect(mail!.parsed.messageId).toBe(result.messageId);
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
  }, APP_TIMEOUT + 30_000);
});

describe('the installed package', () => {
  it('runs the `mailroom` command through the bin link npm creates', async () => {
    const app = apps.find((candidate) => candidate.module === 'esm')!;
    assertInstalled(app);
    const target = typeof packedManifest.bin === 'object' ? packedManifest.bin.mailroom : undefined;
    expect(target, 'package.json needs "bin": { "mailroom": "./dist/cli/mailroom.js" }').toBeDefined();
    expect(readFileSync(join(packed, target!), 'utf8').startsWith('#!/usr/bin/env node'), `${target} needs a node shebang`).toBe(true);

    const bin = join(app.dir, 'node_modules', '.bin', process.platform === 'win32' ? 'mailroom.cmd' : 'mailroom');
    const help = await runCommand(bin, ['--help'], { cwd: app.dir, timeout: 30_000 });
    if (!succeeded(help)) throw new Error(describeFailure('mailroom --help', help));
    expect(help.stdout, 'mailroom printed nothing: started through a symlink, it does not see itself as the main module')
      .toContain('Usage: mailroom');

    const dsn = fileURLToPath(new URL('../fixtures/bounces/postfix-dsn.eml', import.meta.url));
    const bounce = await runCommand(bin, ['bounce', dsn], { cwd: app.dir, timeout: 30_000 });
    if (!succeeded(bounce)) throw new Error(describeFailure('mailroom bounce', bounce));
    const line = JSON.parse(bounce.stdout.trim()) as { results: Array<{ recipient: string; status: string }> };
    expect(line.results).toEqual([expect.objectContaining({ recipient: 'ghost@receiver.test', status: '5.1.1' })]);
  });

  it('resolves every dependency path that dist/ imports, as ESM resolves it', async () => {
    const app = apps.find((candidate) => candidate.module === 'esm')!;
    assertInstalled(app);
    const installedAt = join(app.dir, 'node_modules', manifest.name);
    const optional = new Set(optionalPeers(manifest));
    const specifiers = [...new Set(scanImports(join(installedAt, 'dist'), (name) => /\.[cm]?js$/.test(name))
      .map((site) => site.specifier)
      .filter((specifier) => {
        const name = packageOf(specifier);
        return name && !isBuiltin(specifier) && !optional.has(name);
      }))].sort();
    expect(specifiers.length).toBeGreaterThan(0);

    const script = [
      "import { existsSync } from 'node:fs';",
      "import { fileURLToPath } from 'node:url';",
      'const problems = [];',
      'for (const specifier of JSON.parse(process.env.SPECIFIERS)) {',
      '  try {',
      '    const url = import.meta.resolve(specifier);',
      "    if (url.startsWith('file:') && !existsSync(fileURLToPath(url))) problems.push(`${specifier} → ${url}: no such file`);",
      '  } catch (error) {',
      '    problems.push(`${specifier}: ${error.code ?? error.message}`);',
      '  }',
      '}',
      'console.log(JSON.stringify(problems));',
    ].join('\n');
    // An eval'd module resolves from the working directory, here the installed package itself.
    const env: NodeJS.ProcessEnv = { ...process.env, SPECIFIERS: JSON.stringify(specifiers) };
    const run = await runCommand(process.execPath, ['--input-type=module', '-e', script], { cwd: installedAt, env, timeout: 30_000 });
    if (!succeeded(run)) throw new Error(describeFailure('Resolving the imports of dist/', run));
    expect(JSON.parse(run.stdout.trim()), 'imports that do not resolve in an installed app').toEqual([]);
  });
});
