import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { listFiles, scanImports } from '../../package/dist-imports.js';
import { readManifest } from '../../package/public-api.js';

// What shows users how to use the package (the sample app, the benchmarks, the applications the
// package tests install it into) must use it as users can: through the names of its exports map,
// never through a path into dist/ or lib/.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown> };
const USERS = ['sample-app/src', 'bench', 'test/package/apps'];
const SOURCE = /\.(?:[cm]?[jt]s)$/;

function entryPointOf(specifier: string): string | undefined {
  if (specifier === manifest.name) return '.';
  if (specifier.startsWith(`${manifest.name}/`)) return `./${specifier.slice(manifest.name.length + 1)}`;
  return undefined;
}

describe('the package as its examples use it', () => {
  it('is imported only through entry points of the exports map', () => {
    const problems: string[] = [];
    let uses = 0;
    for (const folder of USERS) {
      const dir = join(ROOT, folder);
      for (const site of scanImports(dir, (name) => SOURCE.test(name))) {
        const where = `${folder}/${site.file}:${site.line} '${site.specifier}'`;
        const entry = entryPointOf(site.specifier);
        if (entry !== undefined) {
          uses++;
          if (!(entry in manifest.exports)) problems.push(`${where}: not an entry point of the exports map`);
        } else if (site.specifier.startsWith('.')) {
          const target = relative(ROOT, resolve(dir, site.file, '..', site.specifier));
          if (/^(?:dist|lib)(?:\/|$)/.test(target)) problems.push(`${where}: reaches into ${target}`);
        }
      }
    }
    expect(uses, 'the scan found no import of the package; is the pattern broken?').toBeGreaterThan(5);
    expect(problems).toEqual([]);
  });

  it('names no built file, in an import or anywhere else', () => {
    const problems: string[] = [];
    for (const folder of USERS) {
      for (const path of listFiles(join(ROOT, folder), (name) => SOURCE.test(name) || name.endsWith('.sh'))) {
        readFileSync(path, 'utf8').split('\n').forEach((line, index) => {
          if (/\bdist\/(?:esm|cjs)\b|\bdist\/index\.[cm]?js\b|\.\.\/(?:\.\.\/)*(?:dist|lib)\//.test(line)) {
            problems.push(`${relative(ROOT, path)}:${index + 1}: ${line.trim()}`);
          }
        });
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the README', () => {
  it('lists every public name in its API section, under its entry point', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = /\n## API\n([\s\S]*?)(?=\n## )/.exec(readme)?.[1];
    expect(section, 'README.md needs a "## API" section').toBeDefined();
    const missing: string[] = [];
    for (const [entry, names] of Object.entries(readManifest())) {
      const heading = section!.indexOf(`\`${entry}\``);
      if (heading < 0) {
        missing.push(`the entry point ${entry}`);
        continue;
      }
      for (const name of [...names.values, ...names.types]) {
        if (!new RegExp(`\\b${name}\\b`).test(section!)) missing.push(`${entry}: ${name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
