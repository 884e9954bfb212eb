import { randomBytes } from 'node:crypto';
import { lstat, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { prunable, stateSubdir, writeFileAtomic } from '../state/files.js';

/**
 * A name as one path segment: worker names and run ids come from config and users, and must not
 * climb out of logs/ ("../x") or collide after escaping (so "%" itself is escaped).
 */
export function pathSegment(name: string): string {
  if (name === '') throw new RangeError('empty name cannot be a file name');
  return encodeURIComponent(name)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/^\./, '%2E');
}

const LOGS_DIR = 'logs';

/** Where a worker's run logs are kept. */
export function logDir(stateDir: string, worker: string): string {
  return join(stateDir, LOGS_DIR, pathSegment(worker));
}

/** Sorts by time as text (e.g. 20250102T030405678Z-1a2b3c), which pruning uses to break mtime ties. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * Saves one run's output as logs/<worker>/<runId>.log and prunes that worker's older logs so at
 * most `keep` remain. Returns the path, for RunRecord.log. Older means earlier modification time,
 * then smaller name (mtime is coarse, so same-tick ties are common); the log just saved is never
 * the one pruned.
 */
export async function saveRunLog(
  stateDir: string,
  worker: string,
  runId: string,
  text: string,
  keep = 20,
): Promise<string> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be >= 1, got ${keep}`);
  const dir = await stateSubdir(stateDir, LOGS_DIR, pathSegment(worker));
  const name = `${pathSegment(runId)}.log`;
  const file = join(dir, name);
  // Through a temp name (which pruning does not match) so nobody reads, or prunes, half a log.
  await writeFileAtomic(file, text, 0o666);
  await pruneLogs(dir, name, keep - 1);
  return file;
}

async function pruneLogs(dir: string, current: string, keepOthers: number): Promise<void> {
  // Only logs devsup wrote: regular files named like one; a link or anything else is left alone.
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => prunable(e, 'file', (n) => n.endsWith('.log') && n !== current)).map((e) => e.name);
  if (names.length <= keepOthers) return;
  const entries = await Promise.all(
    names.map(async (n) => {
      // A concurrent pruner may have removed it already: it then sorts as oldest and is skipped.
      const st = await lstat(join(dir, n)).catch(() => null);
      return { n, t: st?.mtimeMs ?? -1 };
    }),
  );
  entries.sort((a, b) => b.t - a.t || (a.n < b.n ? 1 : a.n > b.n ? -1 : 0));
  await Promise.all(entries.slice(keepOthers).map((e) => rm(join(dir, e.n), { force: true })));
}
