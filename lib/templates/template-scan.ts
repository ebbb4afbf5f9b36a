import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MailerConfigurationError } from '../errors/mailer.error.js';
import { fileLocale } from './locale.js';

export interface SourceFile {
  /** Absolute path, for error messages. */
  file: string;
  source: string;
}

export interface TemplateSources {
  html?: SourceFile;
  subject?: SourceFile;
  text?: SourceFile;
  /** The HTML part is MJML (`<name>.mjml.hbs`). */
  mjml?: boolean;
}

/** A template's files by locale; `''` holds the files without a locale. */
export type LocalizedSources = Map<string, TemplateSources>;

export interface ScannedSources {
  templates: Map<string, LocalizedSources>;
  layouts: Map<string, SourceFile>;
  partials: Map<string, SourceFile>;
}

export interface ScanFolders {
  dir: string;
  layoutsDir: string;
  partialsDir: string;
  /** Whether the layouts/partials folders were set explicitly (then they must exist). */
  layoutsDirSet: boolean;
  partialsDirSet: boolean;
}

const EXTENSION = '.hbs';

/** Reads every `.hbs` file once; names use forward slashes whatever the platform. */
export async function scanTemplates(folders: ScanFolders): Promise<ScannedSources> {
  const dir = resolve(folders.dir);
  const layoutsDir = resolve(folders.layoutsDir);
  const partialsDir = resolve(folders.partialsDir);
  await requireFolder(dir, 'dir', folders.dir);
  const layoutsExist = await folderExists(layoutsDir);
  const partialsExist = await folderExists(partialsDir);
  if (folders.layoutsDirSet && !layoutsExist) {
    await requireFolder(layoutsDir, 'layoutsDir', folders.layoutsDir);
  }
  if (folders.partialsDirSet && !partialsExist) {
    await requireFolder(partialsDir, 'partialsDir', folders.partialsDir);
  }

  const layouts = layoutsExist ? await readNamed(layoutsDir) : new Map<string, SourceFile>();
  const partials = partialsExist ? await readNamed(partialsDir) : new Map<string, SourceFile>();
  const templates = new Map<string, LocalizedSources>();
  for (const [name, file] of await readNamed(dir, [layoutsDir, partialsDir])) {
    const { base, locale, kind, mjml } = parseTemplateName(name);
    const locales = templates.get(base) ?? new Map<string, TemplateSources>();
    const entry = locales.get(locale) ?? {};
    const taken = entry[kind];
    if (taken) {
      throw new MailerConfigurationError(
        `Templates ${taken.file} and ${file.file} are both the ${kind === 'html' ? 'HTML' : kind} of "${base}"` +
          `${locale ? ` in locale ${locale}` : ''}; keep one of them.`,
      );
    }
    entry[kind] = file;
    if (kind === 'html' && mjml) entry.mjml = true;
    locales.set(locale, entry);
    templates.set(base, locales);
  }
  if (templates.size === 0) throw await noTemplates(dir, layouts.size + partials.size);
  return { templates, layouts, partials };
}

/**
 * What a file name says: `orders/receipt.fr-CA.subject` is the subject of `orders/receipt` in
 * `fr-CA`; `.mjml` marks an MJML HTML part. The locale suffix comes before `.subject`, `.text` and
 * `.mjml`, and counts as one only when it reads as a language tag (see `fileLocale`).
 */
export function parseTemplateName(name: string): { base: string; locale: string; kind: 'html' | 'subject' | 'text'; mjml: boolean } {
  let rest = name;
  let kind: 'html' | 'subject' | 'text' = 'html';
  let mjml = false;
  if (rest.endsWith('.subject')) {
    kind = 'subject';
    rest = rest.slice(0, -'.subject'.length);
  } else if (rest.endsWith('.text')) {
    kind = 'text';
    rest = rest.slice(0, -'.text'.length);
  } else if (rest.endsWith('.mjml')) {
    mjml = true;
    rest = rest.slice(0, -'.mjml'.length);
  }
  const dot = rest.lastIndexOf('.');
  if (dot > rest.lastIndexOf('/') + 1) {
    const locale = fileLocale(rest.slice(dot + 1));
    if (locale) return { base: rest.slice(0, dot), locale, kind, mjml };
  }
  return { base: rest, locale: '', kind, mjml };
}

/** The folders a watcher has to cover. */
export function watchedFolders(folders: ScanFolders): string[] {
  const dir = resolve(folders.dir);
  return [dir, resolve(folders.layoutsDir), resolve(folders.partialsDir)].filter(
    (folder, i, all) => all.indexOf(folder) === i && (folder === dir || !isInside(folder, dir)),
  );
}

async function readNamed(root: string, exclude: readonly string[] = []): Promise<Map<string, SourceFile>> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(EXTENSION))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => !exclude.some((folder) => folder !== root && isInside(file, folder)))
    .sort();
  const named = new Map<string, SourceFile>();
  await Promise.all(
    files.map(async (file) => {
      const name = relative(root, file).slice(0, -EXTENSION.length).split(sep).join('/');
      named.set(name, { file, source: await readFile(file, 'utf8') });
    }),
  );
  return named;
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !rel.startsWith(sep) && !/^[A-Za-z]:/.test(rel);
}

async function folderExists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The usual reason a folder that exists in `src/` is missing at run time: `nest build` compiles
 * TypeScript into `dist/` and copies nothing else unless nest-cli.json lists it as an asset. An
 * `include` glob is relative to the project's `sourceRoot`, and the files land at the same
 * relative place under the build's output folder.
 */
const NEST_CLI_ASSETS =
  'With the Nest CLI, .hbs files reach dist/ only when nest-cli.json lists them as assets: ' +
  '"compilerOptions": { "assets": [{ "include": "**/*.hbs", "watchAssets": true }] } ' +
  'copies every src/**/*.hbs to the same place under dist/.';

const NEXT_TO_CODE = "join(__dirname, 'templates') (import.meta.dirname in an ES module)";

async function requireFolder(path: string, option: string, given: string): Promise<void> {
  if (await folderExists(path)) return;
  const relative = isAbsolute(given)
    ? ''
    : ` "${given}" is relative, so it was resolved against the working directory, ${process.cwd()};` +
      ` to find the templates next to the compiled code whatever the working directory, use ${NEXT_TO_CODE}.`;
  throw new MailerConfigurationError(
    `Template folder ${path} (the "${option}" option) does not exist or is not a folder.${relative} ${NEST_CLI_ASSETS}`,
  );
}

/** A folder without templates is a build that copied some files and not the templates. */
async function noTemplates(dir: string, layoutsAndPartials: number): Promise<MailerConfigurationError> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile()).length;
  const found =
    layoutsAndPartials > 0
      ? `only layouts and partials (${layoutsAndPartials} .hbs file${layoutsAndPartials === 1 ? '' : 's'})`
      : files > 0
        ? `${files} file${files === 1 ? '' : 's'}, none ending in .hbs`
        : 'it is empty';
  return new MailerConfigurationError(`Template folder ${dir} (the "dir" option) holds no template: ${found}. ${NEST_CLI_ASSETS}`);
}
