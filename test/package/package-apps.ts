import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The applications the packed tarball is installed into: shaped like `nest new` makes them, each
 * with its own test suite that uses the package the way an application's tests do. Their sources
 * live in test/package/apps/; a copy is installed in a temporary folder per run.
 */
export interface PackageApp {
  label: string;
  /** Folder name under test/package/apps/. */
  name: string;
  nest: 11 | 12;
  module: 'esm' | 'commonjs';
  /** The shop name the app's templates print, so each app's mail is recognisable. */
  shop: string;
  /** The app's own test commands, as its package.json scripts run them, with a JSON report. */
  suites: Array<{ label: string; args: (reportFile: string) => string[] }>;
  /** Where the app was copied and installed (set by install). */
  dir: string;
}

export const RECIPIENT = 'ada@example.org';
export const SENDER = 'app@example.com';

const SOURCES = fileURLToPath(new URL('./apps/', import.meta.url));

export const PACKAGE_APPS: PackageApp[] = [
  {
    label: 'Nest 11 CommonJS app with Jest',
    name: 'nest11-cjs-jest',
    nest: 11,
    module: 'commonjs',
    shop: 'Mailroom CJS',
    suites: [
      { label: 'jest', args: (report) => ['node_modules/jest/bin/jest.js', '--ci', '--json', `--outputFile=${report}`] },
      {
        label: 'jest e2e',
        args: (report) => ['node_modules/jest/bin/jest.js', '--ci', '--config', './test/jest-e2e.json', '--json', `--outputFile=${report}`],
      },
    ],
    dir: '',
  },
  {
    label: 'Nest 12 ESM app with Vitest',
    name: 'nest12-esm-vitest',
    nest: 12,
    module: 'esm',
    shop: 'Mailroom ESM',
    suites: [
      { label: 'vitest', args: (report) => ['node_modules/vitest/vitest.mjs', 'run', '--reporter=json', `--outputFile=${report}`] },
      {
        label: 'vitest e2e',
        args: (report) => ['node_modules/vitest/vitest.mjs', 'run', '--config', './vitest.config.e2e.ts', '--reporter=json', `--outputFile=${report}`],
      },
    ],
    dir: '',
  },
];

/** Copies the app into `dir` and points its nestjs-mailroom dependency at the tarball. */
export function copyApp(app: PackageApp, dir: string, tarball: string): void {
  cpSync(join(SOURCES, app.name), dir, { recursive: true });
  const manifestPath = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
  manifest.dependencies['nestjs-mailroom'] = `file:${tarball}`;
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  app.dir = dir;
}

/** The counts Jest's and Vitest's JSON reporters both write. */
export interface TestReport {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  success: boolean;
}

export function readTestReport(path: string): TestReport {
  return JSON.parse(readFileSync(path, 'utf8')) as TestReport;
}

/** The environment of a child test runner: this runner's own variables would confuse it. */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(?:VITEST|VITE_|JEST_|TEST$|NODE_OPTIONS$|NODE_ENV$|TINYPOOL)/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, CI: 'true', ...extra };
}
