import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The public API manifest: for every entry point of the package, the names it exports at run time
 * (`values`) and the names that exist only as types (`types`). A test compares the packed package
 * with it, so any change to the public surface is a deliberate edit of public-api.json.
 */
export interface EntryPointNames {
  values: string[];
  types: string[];
}

export type PublicApiManifest = Record<string, EntryPointNames>;

export const MANIFEST_PATH = fileURLToPath(new URL('./public-api.json', import.meta.url));

export function readManifest(): PublicApiManifest {
  return JSON.parse(readFileSync(MANIFEST_PATH, 'utf8')) as PublicApiManifest;
}

/**
 * Every name a declaration file exports. The entry points are written as named re-exports
 * (`export { a, type B } from '…'`, `export type { C } from '…'`), which tsc copies into the .d.ts
 * as they are; local declarations are read too. `export *` would hide what is exported, so it is
 * refused.
 */
export function declaredExports(dtsText: string): string[] {
  const names = new Set<string>();
  const text = dtsText.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  if (/^\s*export\s+\*/m.test(text)) throw new Error('An entry point uses `export *`; list its names so the public API stays deliberate.');
  for (const match of text.matchAll(/^\s*export\s+(?:type\s+)?\{([^}]*)\}/gm)) {
    for (const item of match[1]!.split(',')) {
      const spec = item.trim().replace(/^type\s+/, '');
      if (!spec) continue;
      const alias = /\bas\s+([\w$]+)$/.exec(spec);
      names.add(alias ? alias[1]! : spec);
    }
  }
  for (const match of text.matchAll(/^\s*export\s+(?:declare\s+)?(?:abstract\s+)?(?:const|let|var|function|class|interface|type|enum|namespace)\s+([\w$]+)/gm)) {
    names.add(match[1]!);
  }
  return sorted(names);
}

export function sorted(names: Iterable<string>): string[] {
  return [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
