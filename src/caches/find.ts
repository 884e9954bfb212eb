import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { errorMessage } from '../core/errors.js';
import { drainSliced } from '../core/slices.js';
import { STATE_DIR_NAME } from '../state/paths.js';
import { loadPicomatch } from '../watch/cjs-packages.js';
import type { DirLedger } from '../watch/dir-ledger.js';
import { pastRacyWindow } from '../watch/file-state.js';
import { dirCtime } from '../watch/walk.js';
import { PRESETS, type PresetName } from './presets.js';

export interface Candidate {
  /** Under the root as the user named it: what gets reported. */
  display: string;
  /** Under the root's realpath; nothing on the way was a symlink, because none is ever walked. */
  real: string;
  rootReal: string;
}

interface Glob {
  base: string;
  match: (rel: string) => boolean;
}

const hasNodeModules = (rel: string) => rel.split('/').includes('node_modules');

/**
 * Git's store and devsup's own state (index, logs, history): never a cache to clear, and the state
 * directory changes after every run, so walking it would cost a read each time.
 */
const NEVER_WALKED = new Set(['.git', STATE_DIR_NAME]);

/**
 * What one search found in each directory, kept for the next search of the same caches. Adding,
 * removing or renaming an entry changes a directory's ctime, so a directory whose ctime is the same
 * holds the same entries and is stat'ed instead of read: on a 4,000-directory tree that is most of
 * the search's cost, paid before every start.
 */
export type SearchMemo = Map<string, { ctime: number; steps: readonly Step[]; mark?: number }>;

const ADD = 0;
const NODE_MODULES = 1;
const DESCEND = 2;
/** The directory is a Python virtual environment. */
const VENV = 3;
type Step = readonly [kind: typeof ADD | typeof NODE_MODULES | typeof DESCEND | typeof VENV, rel: string];

const parentRel = (rel: string): string => rel.slice(0, Math.max(0, rel.lastIndexOf('/')));

/**
 * `memo` must only ever be passed to searches with the same presets and globs. `ledger` is what the
 * watches of this process heard: given with a memo, directories it vouches for are not even stat'ed.
 */
export async function findCandidates(
  roots: string[],
  presetNames: PresetName[],
  globPatterns: string[],
  errors: string[],
  memo?: SearchMemo,
  ledger?: DirLedger,
): Promise<Candidate[]> {
  // A directory the ledger vouches for since the memo's last look at it is not even stat'ed. Two
  // turns of the event loop make sure that every event queued before the mark has been heard.
  const mark = ledger?.mark();
  if (memo && ledger && ledger.size > 0) {
    await yieldToLoop();
    await yieldToLoop();
  }
  const specs = presetNames.map((p) => PRESETS[p]);
  const dirNames = new Set(specs.flatMap((s) => s.dirNames));
  const suffixes = specs.flatMap((s) => s.fileSuffixes);
  const nmChildren = [...new Set(specs.flatMap((s) => s.nodeModulesChildren))];
  // Every preset walks the whole tree (node_modules, .git and .devsup excluded), so a workspace
  // package's own node_modules/.vite is found as well as the root's.
  const walkEverything = specs.length > 0;
  const globs: Glob[] = globPatterns.map((g) => ({
    base: loadPicomatch().scan(g).base,
    match: loadPicomatch()(g, { dot: true }),
  }));
  const found: Candidate[] = [];
  const visited = new Set<string>();
  // A virtual environment (a directory holding pyvenv.cfg) is installed code, like node_modules:
  // its bytecode is not stale, and clearing it would make every start recompile the packages.
  const venvs = new Set<string>();
  const inVenv = (rel: string): boolean => {
    for (let r = rel; r !== ''; r = parentRel(r)) if (venvs.has(r)) return true;
    return false;
  };
  const installed = (rel: string): boolean => hasNodeModules(rel) || (venvs.size > 0 && inVenv(rel));

  // node_modules and virtual environments are entered only on the way to a glob's literal base
  // that names them.
  const shouldDescend = (rel: string): boolean => {
    const nm = installed(rel);
    if (walkEverything && !nm) return true;
    return globs.some((g) => {
      if (g.base === '') return !nm;
      if (g.base === rel || g.base.startsWith(rel + '/')) return true;
      return rel.startsWith(g.base + '/') && !hasNodeModules(rel.slice(g.base.length + 1));
    });
  };

  const presetMatch = (e: Dirent): boolean => {
    const link = e.isSymbolicLink();
    if ((e.isDirectory() || link) && dirNames.has(e.name)) return true;
    return (e.isFile() || link) && suffixes.some((s) => e.name.endsWith(s));
  };

  for (const root of roots) {
    const shown = resolve(root);
    let rootReal: string;
    try {
      rootReal = await realpath(shown);
      if (!(await stat(rootReal)).isDirectory()) continue;
    } catch (err) {
      errors.push(`${shown}: ${errorMessage(err)}`);
      continue;
    }
    const add = (rel: string) => found.push({ display: join(shown, rel), real: join(rootReal, rel), rootReal });

    // Directories are read synchronously, in slices: this walk runs before every start, and on a
    // big tree promise-based reads cost several times as much.
    const pending: string[] = [''];
    const walk = (rel: string): void => {
      const dir = join(rootReal, rel);
      visited.add(dir);
      const known = memo?.get(dir);
      if (known && ledger?.unchangedSince(dir, known.mark)) {
        known.mark = mark;
        return replay(known.steps);
      }
      const ctime = memo ? dirCtime(dir) : undefined;
      if (known && ctime !== undefined && known.ctime === ctime) {
        known.mark = mark;
        return replay(known.steps);
      }
      let entries: Dirent[];
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (err) {
        memo?.delete(dir);
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') errors.push(`${join(shown, rel)}: ${errorMessage(err)}`);
        return;
      }
      const steps: Step[] = [];
      if (rel !== '' && entries.some((e) => e.name === 'pyvenv.cfg' && !e.isDirectory())) {
        venvs.add(rel);
        steps.push([VENV, rel]);
      }
      const presetsApply = !installed(rel);
      for (const e of entries) {
        if (NEVER_WALKED.has(e.name)) continue;
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
        if ((presetsApply && presetMatch(e)) || globs.some((g) => g.match(childRel))) {
          steps.push([ADD, childRel]);
          continue;
        }
        // Dirent types come from lstat semantics: a symlinked directory is not a directory here.
        if (!e.isDirectory()) continue;
        if (presetsApply && e.name === 'node_modules') steps.push([NODE_MODULES, childRel]);
        if (shouldDescend(childRel)) steps.push([DESCEND, childRel]);
      }
      // A ctime too recent could hide a change made in the same clock tick: such a look is not kept.
      // Nor is one inside a virtual environment, which depends on an ancestor's entries, not its own.
      const keep = ctime !== undefined && pastRacyWindow(ctime) && (rel === '' || !inVenv(parentRel(rel)));
      if (memo && keep) memo.set(dir, { ctime, steps, mark });
      else memo?.delete(dir);
      replay(steps);
    };

    const replay = (steps: readonly Step[]): void => {
      for (const [kind, rel] of steps) {
        if (kind === ADD) add(rel);
        else if (kind === DESCEND) pending.push(rel);
        else if (kind === VENV) venvs.add(rel);
        // What node_modules holds is not told by its parent's ctime: looked at every time.
        else for (const c of nmChildren) addIfPresent(`${rel}/${c}`);
      }
    };

    const addIfPresent = (rel: string): void => {
      try {
        lstatSync(join(rootReal, rel));
        add(rel);
      } catch {
        /* absent: nothing to clear */
      }
    };

    await drainSliced(pending, walk);
  }
  // Directories gone or no longer reached are forgotten, so the memo stays the size of the tree.
  if (memo) for (const dir of memo.keys()) if (!visited.has(dir)) memo.delete(dir);
  return found;
}
