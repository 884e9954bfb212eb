import { realpathSync } from 'node:fs';
import { basename, isAbsolute, resolve, sep } from 'node:path';
import { isDeadState } from '../process/proc-start.js';
import type { ProcInfo } from '../process/table.js';

/** The root as given and as resolved: /proc reports cwds resolved, command lines carry either. */
export interface RootPaths {
  given: string;
  real: string;
}

export function rootPaths(root: string): RootPaths {
  const given = resolve(root);
  let real = given;
  try {
    real = realpathSync(given);
  } catch {
    // A root that cannot be resolved can still be matched as written.
  }
  return { given, real };
}

const inside = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith(sep) ? dir : dir + sep);

export function isUnderRoot(path: string, root: RootPaths): boolean {
  return inside(path, root.given) || inside(path, root.real);
}

/** `--require=./x.js` names a file as much as `./x.js` does. */
function pathWords(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (const word of argv) {
    const eq = word.startsWith('-') ? word.indexOf('=') : -1;
    const value = eq >= 0 ? word.slice(eq + 1) : word;
    if (value !== '' && (eq >= 0 || !value.startsWith('-'))) out.push(value);
  }
  return out;
}

/**
 * The process works in the project (cwd under the root) or its command line names something
 * under it (`node /p/server.js`, `python3 ../p/x.py` run from elsewhere). Relative words are
 * resolved against the process's own cwd; without one (outside Linux) only absolute words count.
 */
export function belongsToProject(row: ProcInfo, root: RootPaths): boolean {
  if (row.cwd !== undefined && isUnderRoot(row.cwd, root)) return true;
  for (const word of pathWords(row.cmdline)) {
    if (isAbsolute(word)) {
      if (isUnderRoot(resolve(word), root)) return true;
    } else if (row.cwd !== undefined && isUnderRoot(resolve(row.cwd, word), root)) return true;
  }
  return false;
}

const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'fish', 'ksh', 'mksh', 'tcsh', 'csh', 'nu', 'xonsh']);
/** Programs that never run the project's code but hold its files open for a person: killing them loses work. */
const INTERACTIVE = new Set([
  'vi', 'vim', 'nvim', 'view', 'gvim', 'emacs', 'emacsclient', 'nano', 'micro', 'hx', 'kak', 'joe',
  'less', 'more', 'most', 'man', 'tmux', 'screen', 'zellij',
]);

/**
 * A person's shell or editor sitting in the project directory is not a stale server, even though
 * it started before the last edit. A shell given a script or a `-c` command is kept: that one runs code.
 */
export function isInteractiveTool(row: ProcInfo): boolean {
  const first = row.cmdline[0];
  if (first === undefined) return false;
  const name = basename(first).replace(/^-/, '');
  if (INTERACTIVE.has(name)) return true;
  return SHELLS.has(name) && row.cmdline.slice(1).every((w) => w.startsWith('-'));
}

/** Kernel threads have no command line and descend from kthreadd (pid 2). */
export function isKernelThread(row: ProcInfo): boolean {
  return row.cmdline.length === 0 || row.pid === 2 || row.ppid === 2;
}

/** `pid` and every process above it, from the table (the shell devsup was called from, its terminal, ...). */
export function ancestorsOf(pid: number, table: readonly ProcInfo[]): Set<number> {
  const byPid = new Map(table.map((r) => [r.pid, r]));
  const out = new Set<number>();
  for (let p: number | undefined = pid; p !== undefined && p > 0 && !out.has(p); p = byPid.get(p)?.ppid) out.add(p);
  return out;
}

export interface SelectOptions {
  /** The process doing the looking; it and its ancestors are never listed. */
  selfPid: number;
  /** Other users' processes are never listed; undefined where there are no uids. */
  uid: number | undefined;
}

/** The processes `devsup ps` lists: the project's own, live, this user's, not this devsup or its callers. */
export function selectProjectProcesses(table: readonly ProcInfo[], root: RootPaths, opts: SelectOptions): ProcInfo[] {
  const ancestors = ancestorsOf(opts.selfPid, table);
  return table.filter(
    (r) =>
      !ancestors.has(r.pid) &&
      r.ppid !== opts.selfPid &&
      (opts.uid === undefined || r.uid === opts.uid) &&
      !isDeadState(r.state) &&
      !isKernelThread(r) &&
      !isInteractiveTool(r) &&
      belongsToProject(r, root),
  );
}
