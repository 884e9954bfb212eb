import { readdirSync, statSync, type Dirent } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { createFilter, type Exclusion, type FilterOptions } from './filter.js';

/**
 * Directories that hold installed tools, not the project's own code: a file there named on a
 * command line (`node node_modules/.bin/vite`) changes only with an install, and watching it
 * would earn a note on every run.
 */
const TOOL_DIRS = new Set(['node_modules', '.venv', 'venv', '.git', '.devsup', '__pycache__', '.pytest_cache']);

/** The regular files a command line names that lie under `project` (`--flag=path` counts too). */
export function commandFiles(argv: readonly string[], project: string): string[] {
  const base = resolve(project);
  const prefix = base.endsWith(sep) ? base : base + sep;
  const out = new Set<string>();
  for (const word of argv) {
    const eq = word.startsWith('-') ? word.indexOf('=') : -1;
    const value = eq >= 0 ? word.slice(eq + 1) : word;
    if (value === '' || (eq < 0 && value.startsWith('-'))) continue;
    const abs = isAbsolute(value) ? resolve(value) : resolve(base, value);
    if (!abs.startsWith(prefix)) continue;
    if (relative(base, abs).split(sep).some((part) => TOOL_DIRS.has(part))) continue;
    if (statSync(abs, { throwIfNoEntry: false })?.isFile()) out.add(abs);
  }
  return [...out];
}

/**
 * Files the command names that the watch would leave out by an ignore rule (not by `--ext`, which
 * narrows on purpose), with the rule: a file the command runs is always watched, or devsup would
 * call a process fresh while the very file it runs has changed.
 */
export function namedButIgnored(files: readonly string[], opts: FilterOptions): { path: string; why: Exclusion }[] {
  const filter = createFilter(opts);
  const out: { path: string; why: Exclusion }[] = [];
  for (const path of files) {
    const why = filter.why(path);
    if (why && why.rule !== 'ext') out.push({ path, why });
  }
  return out;
}

/** `dist/ is ignored by default`, `the ignore pattern "tmp" covers it`: a rule in a user's words. */
export function describeExclusion(ex: Exclusion, root: string): string {
  const rel = (p: string): string => relative(root, p) || '.';
  switch (ex.rule) {
    case 'default-dir':
      return `${rel(ex.dir)}/ is ignored by default (every ${basename(ex.dir)}/ directory is)`;
    case 'editor-temp':
      return 'its name is an editor\'s swap, backup or temp file';
    case 'ignore':
      return `the ignore pattern "${ex.glob}" covers ${ex.dir ? `${rel(ex.dir)}/` : 'it'}`;
    case 'gitignore':
      return `a .gitignore rule covers ${ex.dir ? `${rel(ex.dir)}/` : 'it'}`;
    case 'ext':
      return `only files ending in ${ex.ext.map((e) => `.${e}`).join(', ')} are watched`;
    case 'outside':
      return 'it lies outside every watched path';
  }
}

/** What a user can change to watch what a rule leaves out. */
function remedy(ex: Exclusion, root: string): string {
  switch (ex.rule) {
    case 'default-dir':
    case 'gitignore':
      return ex.dir ? `watch it anyway with --watch ${relative(root, ex.dir) || '.'} ("watch" in a config)` : 'name the file with --watch';
    case 'editor-temp':
      return 'name the file with --watch';
    case 'ignore':
      return 'drop that --ignore (or "ignore" entry in a config)';
    case 'ext':
      return 'widen --ext ("ext" in a config)';
    case 'outside':
      return 'name its directory with --watch';
  }
}

/** Entries read at most when explaining an empty watch: a look for a message, not a second walk. */
const MAX_LOOKED_AT = 5000;

/**
 * Why a watch over `opts.roots` counts no file: the rule that leaves out most of the files found
 * (looking at a bounded number of entries), and the flag that changes it.
 */
export function explainNoFiles(opts: FilterOptions): string {
  const filter = createFilter(opts);
  const root = opts.roots[0] ?? '.';
  const tally = new Map<string, { ex: Exclusion; n: number }>();
  let files = 0;
  let looked = 0;
  const todo = opts.roots.map((r) => resolve(r));
  for (let dir = todo.shift(); dir !== undefined && looked < MAX_LOOKED_AT; dir = todo.shift()) {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      // A file root, or a directory we cannot read.
      if (statSync(dir, { throwIfNoEntry: false })?.isFile()) count(dir);
      continue;
    }
    for (const e of entries) {
      if (++looked > MAX_LOOKED_AT) break;
      const p = join(dir, e.name);
      if (e.isDirectory()) {
        // Installed tools and devsup's own state are never what a user meant to watch.
        if (!TOOL_DIRS.has(e.name)) todo.push(p);
      } else if (e.isFile()) count(p);
    }
  }
  function count(p: string): void {
    files++;
    const ex = filter.why(p);
    if (!ex) return;
    const key = JSON.stringify(ex);
    const t = tally.get(key) ?? { ex, n: 0 };
    t.n++;
    tally.set(key, t);
  }
  const where = opts.roots.map((r) => relative(process.cwd(), r) || '.').join(', ');
  const top = [...tally.values()].sort((a, b) => b.n - a.n)[0];
  if (files === 0 || !top) return `watching no files: ${where} holds none, so no edit will restart anything`;
  const many = looked > MAX_LOOKED_AT ? 'most files' : top.n === files ? (files === 1 ? 'the only file' : `all ${files} files`) : `${top.n} of the ${files} files`;
  const verb = many === 'the only file' || top.n === 1 ? 'is' : 'are';
  return `watching no files: ${many} under ${where} ${verb} left out because ${describeExclusion(top.ex, resolve(root))}; ${remedy(top.ex, resolve(root))}`;
}
