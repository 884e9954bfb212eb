import { stat } from 'node:fs/promises';
import { basename, extname, relative } from 'node:path';
import { gate } from '../caches/gate.js';
import { createFilter } from '../watch/filter.js';
import { walkTree } from '../watch/walk.js';
import type { Language } from './roles.js';

/**
 * What counts as source for each language: the files a process of that language reads when it
 * starts (or imports later) and will not read again by itself, plus the configuration formats
 * programs load once at startup. Bytecode (.pyc), build output (dist, build), documents and assets
 * are left out: rewriting them does not mean a process runs old code.
 */
const CONFIG = ['.json', '.toml', '.yaml', '.yml', '.ini', '.cfg', '.env'];
const BY_LANGUAGE: Record<Exclude<Language, 'program'>, readonly string[]> = {
  node: ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts', '.tsx', '.jsx', '.vue', '.svelte', '.astro', '.node', '.wasm'],
  python: ['.py', '.pyi', '.pth', '.so'],
  ruby: ['.rb', '.erb', '.ru'],
  perl: ['.pl', '.pm'],
  php: ['.php'],
  lua: ['.lua'],
  shell: ['.sh', '.bash'],
};

/** Every extension some language counts, for the one walk of the tree. */
export const SOURCE_EXTENSIONS: ReadonlySet<string> = new Set([...Object.values(BY_LANGUAGE).flat(), ...CONFIG]);

function extOf(path: string): string {
  const name = basename(path);
  // `.env` has no extension to Node, yet it is the config most often changed under a running server.
  return name === '.env' || name.startsWith('.env.') ? '.env' : extname(name);
}

export function isSourceFile(path: string): boolean {
  return SOURCE_EXTENSIONS.has(extOf(path));
}

/** Whether a process of `language` can have loaded `file`: its language's files and startup config. */
export function loadableBy(language: Language, file: SourceFile): boolean {
  if (language === 'program') return false;
  return CONFIG.includes(file.ext) || BY_LANGUAGE[language].includes(file.ext);
}

export interface SourceFile {
  path: string;
  /** Relative to the root, for display. */
  rel: string;
  ext: string;
  /** Moved to the present by every write and every utimes(): what a restored mtime cannot hide. */
  ctimeMs: number;
}

/** A stat holds a thread-pool slot; a big tree must not queue tens of thousands at once. */
const statGate = gate(64);

/**
 * Every source file under `root`, most recently changed (ctime) first, walked the way `run` watches: the watch filter's
 * default ignores (node_modules, .git, __pycache__, .venv, dist, ...) and .gitignore honoured.
 */
export async function listSources(root: string): Promise<SourceFile[]> {
  const filter = createFilter({ roots: [root] });
  const paths: string[] = [];
  await walkTree([root], filter, () => undefined, { onFile: (p) => isSourceFile(p) && paths.push(p) });
  const stats = await Promise.all(
    paths.map((path) =>
      statGate(() => stat(path)).then(
        (st) => ({ path, rel: relative(root, path), ext: extOf(path), ctimeMs: st.ctimeMs }),
        () => undefined, // gone since the walk
      ),
    ),
  );
  const files = stats.filter((s): s is SourceFile => s !== undefined);
  return files.sort((a, b) => b.ctimeMs - a.ctimeMs || a.rel.localeCompare(b.rel));
}
