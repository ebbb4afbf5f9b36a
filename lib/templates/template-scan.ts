import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
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
  await requireFolder(dir, 'dir', 'the folder that holds your .hbs mail templates');
  const layoutsExist = await folderExists(layoutsDir);
  const partialsExist = await folderExists(partialsDir);
  if (folders.layoutsDirSet && !layoutsExist) {
    await requireFolder(layoutsDir, 'layoutsDir', 'the folder that holds your layouts');
  }
  if (folders.partialsDirSet && !partialsExist) {
    await requireFolder(partialsDir, 'partialsDir', 'the folder that holds your partials');
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

async function requireFolder(path: string, option: string, what: string): Promise<void> {
  if (await folderExists(path)) return;
  throw new MailerConfigurationError(
    `Template folder ${path} does not exist or is not a folder. Set the "${option}" option to ${what} ` +
      `(a relative path is resolved against the working directory, ${process.cwd()}).`,
  );
}
