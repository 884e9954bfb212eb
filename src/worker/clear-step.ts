import type { Bus } from '../core/bus.js';
import { clearCaches, runClearCommand, type ClearResult } from '../caches/clear.js';
import type { SavedSearch } from '../caches/saved-search.js';
import type { PresetName } from '../caches/presets.js';
import { dirLedger } from '../watch/dir-ledger.js';
import type { Snapshot } from '../watch/snapshot.js';
import { pythonPrefixFor } from './python-prefix.js';

export interface ClearSpec {
  enabled: boolean;
  /** Caches are only ever removed inside these. */
  roots: string[];
  presets: PresetName[];
  globs: string[];
  command?: string;
}

interface ClearInput {
  name: string;
  cwd: string;
  clear: ClearSpec;
  python: boolean;
  stateDir: string;
}

/**
 * Runs between the old tree being gone and the new child starting: removes caches that could make
 * the new child run old code, and readies the worker's bytecode directory for a Python child that
 * starts on `snapshot` (the bytecode of every file written since the previous child's snapshot
 * goes). `search: false` leaves the caches to a `cachesLeft()` after the start.
 */
export async function clearForStart(
  spec: ClearInput,
  snapshot: Snapshot,
  bus: Bus,
  saved?: SavedSearch,
  search = true,
): Promise<{ count: number; bytes: number; env: Record<string, string> }> {
  let count = 0;
  let bytes = 0;
  const env: Record<string, string> = {};
  if (spec.python) Object.assign(env, await pythonPrefixFor(spec, snapshot, bus));
  const c = spec.clear;
  if (!c.enabled) return { count, bytes, env };
  let paths: string[] = [];
  if (search && searchesCaches(c)) {
    const res = await searchCaches(c, saved, false);
    ({ paths, bytes } = res);
    count = paths.length;
    for (const e of res.errors) bus.emit({ type: 'warning', worker: spec.name, message: `cache clearing: ${e}` });
  }
  const command = c.command ? await runCommand(c.command, spec) : undefined;
  if (count > 0 || command) bus.emit({ type: 'caches-cleared', worker: spec.name, paths, bytes, command });
  return { count, bytes, env };

  async function runCommand(cmd: string, s: ClearInput): Promise<{ ok: boolean; code: number | null }> {
    const r = await runClearCommand(cmd, s.cwd);
    if (!r.ok) bus.emit({ type: 'warning', worker: s.name, message: `--clear-cmd failed (exit ${r.code ?? 'signal'}): ${r.output.trim().split('\n').pop() ?? ''}` });
    return { ok: r.ok, code: r.code };
  }
}

/** The caches a start that did not search would have cleared, found without removing anything. */
export async function cachesLeft(spec: ClearInput, saved?: SavedSearch): Promise<string[]> {
  return searchesCaches(spec.clear) ? (await searchCaches(spec.clear, saved, true)).paths : [];
}

/** Whether starts search for caches at all: something to clear by preset or glob. */
export function searchesCaches(c: ClearSpec): boolean {
  return c.enabled && (c.presets.length > 0 || c.globs.length > 0);
}

/** One search (removing what it finds unless `dryRun`), its result told to the saved memo. */
async function searchCaches(c: ClearSpec, saved: SavedSearch | undefined, dryRun: boolean): Promise<ClearResult> {
  const res = await clearCaches({ roots: c.roots, presets: c.presets, globs: c.globs, memo: saved?.memo, ledger: dirLedger, dryRun });
  saved?.searched(res.paths.length);
  return res;
}
