import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { DirLedger } from '../watch/dir-ledger.js';
import { findCandidates, type Candidate, type SearchMemo } from './find.js';
import { dirGate, gate } from './gate.js';
import type { PresetName } from './presets.js';

export { runClearCommand, type ClearCommandOptions, type ClearCommandResult } from './clear-cmd.js';

export interface ClearOptions {
  roots: string[];
  presets: PresetName[];
  globs: string[];
  /** Report what would go, delete nothing. */
  dryRun?: boolean;
  /** Kept between the searches of one worker (see SearchMemo). */
  memo?: SearchMemo;
  /** What this process's watches heard (see findCandidates); only useful with `memo`. */
  ledger?: DirLedger;
}

export interface ClearResult {
  /** Removed (or, in a dry run, removable) files and directories, sorted. */
  paths: string[];
  /** Sum of the sizes of the regular files among them. */
  bytes: number;
  errors: string[];
}

/** A candidate inside another candidate goes with it; listing both would count its bytes twice. */
function outermost(candidates: Candidate[]): Candidate[] {
  const byReal = new Map<string, Candidate>();
  for (const c of candidates) if (!byReal.has(c.real)) byReal.set(c.real, c);
  const kept: Candidate[] = [];
  for (const c of byReal.values()) {
    let p = dirname(c.real);
    let nested = false;
    while (p !== dirname(p) && !nested) {
      nested = byReal.has(p);
      p = dirname(p);
    }
    if (!nested) kept.push(c);
  }
  return kept.sort((a, b) => (a.display < b.display ? -1 : a.display > b.display ? 1 : 0));
}

/** Regular-file bytes under `path`, never following symlinks. */
async function sizeOf(path: string): Promise<number> {
  const st = await lstat(path);
  if (st.isFile()) return st.size;
  if (!st.isDirectory()) return 0;
  let entries: Dirent[];
  try {
    entries = await dirGate(() => readdir(path, { withFileTypes: true }));
  } catch {
    return 0;
  }
  const sizes = await Promise.all(entries.map((e) => sizeOf(join(path, e.name)).catch(() => 0)));
  return sizes.reduce((a, b) => a + b, 0);
}

const isInside = (path: string, rootReal: string) => path === rootReal || path.startsWith(rootReal + sep);

async function removeOne(c: Candidate, dryRun: boolean): Promise<number> {
  // Resolved again right before deleting: a directory on the way may have become a symlink
  // since the walk, and nothing outside the root may be touched through it.
  const parentReal = await realpath(dirname(c.real));
  if (!isInside(parentReal, c.rootReal)) {
    throw new Error(`refusing to remove: resolves to ${parentReal}, outside the root ${c.rootReal}`);
  }
  const target = join(parentReal, basename(c.real));
  const st = await lstat(target);
  const bytes = await sizeOf(target);
  if (!dryRun) {
    // rm() on a directory unlinks symlinks found inside it rather than following them.
    if (st.isDirectory()) await rm(target, { recursive: true, force: true });
    else await unlink(target);
  }
  return bytes;
}

/** Candidates handled at once; each is a few syscalls, so latency rather than throughput bounds this. */
const removeGate = gate(16);

/** Deletes (or in a dry run only measures) what findCandidates returned, outermost paths only. */
export async function removeCandidates(candidates: Candidate[], dryRun: boolean): Promise<ClearResult> {
  const outcomes = await Promise.all(
    outermost(candidates).map((c) =>
      removeGate(() => removeOne(c, dryRun)).then(
        (bytes) => ({ c, bytes, error: undefined }),
        (err: unknown) => ({ c, bytes: 0, error: err }),
      ),
    ),
  );
  const result: ClearResult = { paths: [], bytes: 0, errors: [] };
  for (const { c, bytes, error } of outcomes) {
    if (error === undefined) {
      result.paths.push(c.display);
      result.bytes += bytes;
    } else if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      result.errors.push(`${c.display}: ${errorMessage(error)}`);
    }
  }
  return result;
}

export async function clearCaches(opts: ClearOptions): Promise<ClearResult> {
  const walkErrors: string[] = [];
  const candidates = await findCandidates(opts.roots, opts.presets, opts.globs, walkErrors, opts.memo, opts.ledger);
  const result = await removeCandidates(candidates, opts.dryRun === true);
  return { ...result, errors: [...walkErrors, ...result.errors] };
}
