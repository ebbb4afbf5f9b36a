import { readdir, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { MailerConfigurationError } from '../errors/mailer.error.js';

export interface SourceFile {
  /** Absolute path, for error messages. */
  file: string;
  source: string;
}

export interface TemplateSources {
  html?: SourceFile;
  subject?: SourceFile;
  text?: SourceFile;
}

export interface ScannedSources {
  templates: Map<string, TemplateSources>;
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
  const templates = new Map<string, TemplateSources>();
  for (const [name, file] of await readNamed(dir, [layoutsDir, partialsDir])) {
    let kind: keyof TemplateSources = 'html';
    let base = name;
    if (name.endsWith('.subject')) {
      kind = 'subject';
      base = name.slice(0, -'.subject'.length);
    } else if (name.endsWith('.text')) {
      kind = 'text';
      base = name.slice(0, -'.text'.length);
    }
    const entry = templates.get(base) ?? {};
    entry[kind] = file;
    templates.set(base, entry);
  }
  if (templates.size === 0) throw await noTemplates(dir, layouts.size + partials.size);
  return { templates, layouts, partials };
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
