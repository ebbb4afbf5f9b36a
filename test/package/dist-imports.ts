import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

export type ImportKind = 'static' | 'dynamic' | 'require' | 'reference';

export interface ImportSite {
  /** Path relative to the scanned folder, with forward slashes. */
  file: string;
  line: number;
  specifier: string;
  kind: ImportKind;
}

// tsc prints module syntax in a regular shape, so patterns are enough: every static import or
// re-export starts a line; dynamic imports and requires can sit anywhere in an expression.
const PATTERNS: Array<[ImportKind, RegExp]> = [
  ['static', /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s*)?(['"])([^'"\n]+)\1/gm],
  ['dynamic', /\bimport\(\s*(['"`])([^'"`\n]+)\1\s*\)/g],
  ['require', /\brequire\(\s*(['"`])([^'"`\n]+)\1\s*\)/g],
  ['reference', /^\/\/\/\s*<reference\s+types=(['"])([^'"]+)\1/gm],
];

function isCommentLine(text: string, index: number): boolean {
  const start = text.lastIndexOf('\n', index - 1) + 1;
  return /^\s*(?:\*|\/\/|\/\*)/.test(text.slice(start, index));
}

// tsc's CommonJS output turns `await import('x')` into `Promise.resolve().then(() => __importStar(require('x')))`:
// still loaded only when that line runs.
const LOWERED_IMPORT = /Promise\.resolve\(\)\.then\(\(\)\s*=>\s*(?:__importStar\(|__importDefault\()?$/;

function lazyRequire(text: string, index: number, kind: ImportKind): ImportKind {
  return kind === 'require' && LOWERED_IMPORT.test(text.slice(Math.max(0, index - 80), index)) ? 'dynamic' : kind;
}

export function listFiles(dir: string, accept: (name: string) => boolean): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listFiles(path, accept));
    else if (accept(entry.name)) found.push(path);
  }
  return found.sort();
}

/** Every module specifier written in the files below `dir` that `accept` selects. */
export function scanImports(dir: string, accept: (name: string) => boolean): ImportSite[] {
  const sites: ImportSite[] = [];
  for (const path of listFiles(dir, accept)) {
    const text = readFileSync(path, 'utf8');
    const file = relative(dir, path).split('\\').join('/');
    for (const [kind, pattern] of PATTERNS) {
      for (const match of text.matchAll(pattern)) {
        const at = match.index + match[0].indexOf(match[2]!);
        if (kind !== 'static' && kind !== 'reference' && isCommentLine(text, match.index)) continue;
        sites.push({ file, line: text.slice(0, at).split('\n').length, specifier: match[2]!, kind: lazyRequire(text, match.index, kind) });
      }
    }
  }
  return sites;
}

export function isBuiltin(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  return builtinModules.includes(specifier) || builtinModules.includes(specifier.split('/')[0]!);
}

/** `@scope/name/sub` → `@scope/name`, `name/sub` → `name`; null for relative, absolute and URL specifiers. */
export function packageOf(specifier: string): string | null {
  if (/^(?:\.{1,2}\/|\/|[a-z][a-z0-9+.-]*:)/i.test(specifier)) return null;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

export function formatSite(site: ImportSite): string {
  return `${site.file}:${site.line} ${site.kind} '${site.specifier}'`;
}
