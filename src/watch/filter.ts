import { statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve, sep } from 'node:path';
import { loadPicomatch } from './cjs-packages.js';
import { isEditorTemp } from './editor-temp.js';
import { GitignoreSet, toPosix } from './gitignore.js';
import type { PathFilter } from './types.js';
import { DEFAULT_IGNORED_DIRS } from './ignored-dirs.js';

export { DEFAULT_IGNORED_DIRS } from './ignored-dirs.js';

export interface FilterOptions {
  /** Directories or files; a file root makes exactly that file count. */
  roots: string[];
  /** Globs relative to the root; a bare name (`tmp`, `*.log`) matches at any depth. */
  ignore?: string[];
  /** Extensions with or without the dot; they narrow files, never the directories walked. */
  ext?: string[];
  /** Honour the roots' .gitignore files and nested ones (default true). */
  gitignore?: boolean;
}

interface Root {
  path: string;
  /** Prefix that every path below the root starts with. */
  prefix: string;
  isFile: boolean;
}

/** Verdicts are cached per directory; a long session creating endless temp dirs must not grow it forever. */
const MAX_CACHED_DIRS = 200_000;

/** Turns a user's `--ignore` value into a picomatch glob relative to a root. */
export function userGlob(raw: string): string {
  let g = raw.trim().replace(/^\.\//, '').replace(/\/+$/, '');
  if (g.startsWith('/')) return g.slice(1);
  if (!g.includes('/')) g = `**/${g}`;
  return g;
}

/** Why a path is left out: what a user reads when a file they expected is not watched. */
export type Exclusion =
  | { rule: 'default-dir'; dir: string }
  | { rule: 'editor-temp' }
  | { rule: 'ignore'; glob: string; dir?: string }
  | { rule: 'gitignore'; dir?: string }
  | { rule: 'ext'; ext: string[] }
  | { rule: 'outside' };

export interface ExplainingFilter extends PathFilter {
  /** Why `absPath` (a file) does not count; undefined when it does. For messages, not for walks. */
  why(absPath: string): Exclusion | undefined;
  /** A .gitignore file was edited, added or removed: every verdict from here on reads them again. */
  rulesChanged(): void;
}

type Rule = 'default-dir' | 'editor-temp' | 'ignore' | 'gitignore';

export function createFilter(opts: FilterOptions): ExplainingFilter {
  const roots = opts.roots.map(classifyRoot).sort((a, b) => b.path.length - a.path.length);
  const defaults = new Set(DEFAULT_IGNORED_DIRS);
  const globs = (opts.ignore ?? []).filter((g) => g.trim() !== '').map(userGlob);
  const userMatch = globs.length > 0 ? loadPicomatch()(globs, { dot: true }) : undefined;
  const exts = (opts.ext ?? []).map((e) => e.trim().replace(/^\.+/, '')).filter((e) => e !== '');
  const git = opts.gitignore === false ? undefined : new GitignoreSet();
  const dirCache = new Map<string, boolean>();

  // Roots sorted deepest first, so a path belongs to the innermost root that holds it.
  const rootOf = (abs: string): Root | undefined =>
    roots.find((r) => abs === r.path || (!r.isFile && abs.startsWith(r.prefix)));

  const ruledOut = (abs: string, root: Root, isDir: boolean): Rule | undefined => {
    if (isDir && defaults.has(basename(abs))) return 'default-dir';
    if (!isDir && isEditorTemp(basename(abs))) return 'editor-temp';
    if (userMatch?.(toPosix(abs.slice(root.prefix.length)))) return 'ignore';
    return git?.ignores(abs, root.path, isDir) ? 'gitignore' : undefined;
  };

  const exclusion = (abs: string, root: Root, isDir: boolean): Exclusion | undefined => {
    const rule = ruledOut(abs, root, isDir);
    if (rule === undefined) return undefined;
    if (rule === 'default-dir') return { rule, dir: abs };
    if (rule === 'editor-temp') return { rule };
    const dir = isDir ? { dir: abs } : {};
    if (rule === 'gitignore') return { rule, ...dir };
    const rel = toPosix(abs.slice(root.prefix.length));
    return { rule, glob: opts.ignore?.find((g) => g.trim() !== '' && loadPicomatch()(userGlob(g), { dot: true })(rel)) ?? globs.join(', '), ...dir };
  };

  const dirSkipped = (dir: string, root: Root): boolean => {
    if (dir === root.path || !dir.startsWith(root.prefix)) return false;
    const hit = dirCache.get(dir);
    if (hit !== undefined) return hit;
    const skipped = dirSkipped(dirname(dir), root) || ruledOut(dir, root, true) !== undefined;
    if (dirCache.size >= MAX_CACHED_DIRS) dirCache.clear();
    dirCache.set(dir, skipped);
    return skipped;
  };

  const extOk = (abs: string): boolean => {
    if (exts.length === 0) return true;
    const name = basename(abs);
    return exts.some((e) => name.length > e.length + 1 && name.endsWith(`.${e}`));
  };

  return {
    skipDir(absPath) {
      const abs = normal(absPath);
      const root = rootOf(abs);
      if (!root || root.isFile) return true;
      return dirSkipped(abs, root);
    },
    includeFile(absPath) {
      const abs = normal(absPath);
      const root = rootOf(abs);
      if (!root) return false;
      // Naming a file explicitly beats every pattern that would leave it out.
      if (root.isFile) return true;
      if (abs === root.path || !extOk(abs)) return false;
      return !dirSkipped(dirname(abs), root) && ruledOut(abs, root, false) === undefined;
    },
    why(absPath) {
      const abs = normal(absPath);
      const root = rootOf(abs);
      if (!root) return { rule: 'outside' };
      if (root.isFile) return undefined;
      // The outermost directory left out is the one to name: nothing below it was looked at.
      const dirs: string[] = [];
      for (let d = dirname(abs); d !== root.path && d.startsWith(root.prefix); d = dirname(d)) dirs.unshift(d);
      for (const d of dirs) {
        const ex = exclusion(d, root, true);
        if (ex) return ex;
      }
      const own = exclusion(abs, root, false);
      if (own) return own;
      return extOk(abs) ? undefined : { rule: 'ext', ext: exts };
    },
    ignoreGlobs: [`**/{${DEFAULT_IGNORED_DIRS.join(',')}}`, ...globs],
    rulesChanged() {
      git?.forget();
      dirCache.clear();
    },
  };
}

/** Callers pass clean absolute paths almost always; resolve() only the odd one (it is costly per file). */
function normal(p: string): string {
  return isAbsolute(p) && !/[\\/](\.{1,2})?([\\/]|$)/.test(p) ? p : resolve(p);
}

function classifyRoot(raw: string): Root {
  const path = resolve(raw);
  let isFile = false;
  try {
    isFile = !statSync(path).isDirectory();
  } catch {
    // A root that does not exist yet is expected to come back as a directory.
  }
  return { path, prefix: path.endsWith(sep) ? path : path + sep, isFile };
}
