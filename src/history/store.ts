import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { stateWriteError } from '../state/errors.js';
import { openForAppend, readStateText, readWhole, stateSubdir, writeFileAtomic } from '../state/files.js';
import { withFileLock, type LockOptions } from './lock.js';
import { parseRunLine, runRecordProblem, type RunRecord } from './record.js';

export type { RunRecord, RunResult } from './record.js';
export { saveRunLog, logDir, newRunId } from './logs.js';

export function historyPath(stateDir: string): string {
  return join(stateDir, 'history.jsonl');
}

/**
 * The history is cut back to its newest half once it passes this size: a flake hunt appends a
 * record per run for days, and every `history` and `flake` reads the whole file. About 15,000
 * records of a few hundred bytes.
 */
export const HISTORY_MAX_BYTES = 4 * 1024 * 1024;

export interface AppendOptions extends LockOptions {
  /** HISTORY_MAX_BYTES unless given. */
  maxBytes?: number;
}

/**
 * Appends one record as one line. Several devsup processes may share a state directory, and
 * records with long changedFiles lists exceed PIPE_BUF, so a single O_APPEND write is not enough
 * to keep lines whole everywhere (NFS, partial writes): the append happens under a lock file.
 */
export async function appendRun(stateDir: string, rec: RunRecord, opts: AppendOptions = {}): Promise<void> {
  // Refuse here what readRuns would silently skip later.
  const problem = runRecordProblem(rec);
  if (problem !== null) throw new TypeError(`invalid run record: ${problem}`);
  const file = historyPath(stateDir);
  await stateSubdir(stateDir);
  await withFileLock(
    `${file}.lock`,
    async () => {
      // Never through a link: the history is appended to, and then copied when it is cut back.
      const fh = await openForAppend(file);
      try {
        // Numbered under the lock, so two devsup processes sharing the history never give one twice.
        const line = `${JSON.stringify({ ...rec, run: rec.run ?? lastRun((await fh.readFile('utf8')).split('\n'), rec.worker) + 1 })}\n`;
        const { size, prefix } = await tornTail(fh);
        const text = prefix + line;
        await writeWhole(fh, file, text, size);
        const maxBytes = opts.maxBytes ?? HISTORY_MAX_BYTES;
        if (size + Buffer.byteLength(text) > maxBytes) await trim(file, fh, maxBytes);
      } finally {
        await fh.close();
      }
    },
    opts,
  );
}

/**
 * The file's size, and the newline a line must be given first when the file ends without one: a
 * crash mid-write leaves a line without its newline, and the next line would be glued onto that
 * fragment and lost with it.
 */
export async function tornTail(fh: FileHandle): Promise<{ size: number; prefix: string }> {
  const { size } = await fh.stat();
  if (size === 0) return { size, prefix: '' };
  const { bytesRead, buffer } = await fh.read(Buffer.alloc(1), 0, 1, size - 1);
  return { size, prefix: bytesRead === 1 && buffer[0] !== 0x0a ? '\n' : '' };
}

/** Appends `text`; a failed write (a full disk) leaves the file at `size`, as it was, never half a line. */
export async function writeWhole(fh: FileHandle, file: string, text: string, size: number): Promise<void> {
  try {
    await fh.writeFile(text);
  } catch (err) {
    await fh.truncate(size).catch(() => undefined);
    throw stateWriteError(err, file);
  }
}

/** Appends one line to a JSON-lines file of `stateDir` under its lock, never through a link. */
export async function appendLine(stateDir: string, file: string, line: string): Promise<void> {
  await stateSubdir(stateDir);
  await withFileLock(`${file}.lock`, async () => {
    const fh = await openForAppend(file);
    try {
      const { size, prefix } = await tornTail(fh);
      await writeWhole(fh, file, `${prefix}${line}\n`, size);
    } finally {
      await fh.close();
    }
  });
}

/** Keeps the newest whole lines that fit in half of `maxBytes`; called under the history's lock. */
async function trim(file: string, fh: FileHandle, maxBytes: number): Promise<void> {
  const text = await readWhole(fh);
  let cut = Math.max(0, text.length - Math.floor(maxBytes / 2));
  // From the start of a line: the first whole line at or after the cut, and at least the newest.
  if (cut > 0) cut = text.indexOf(0x0a, cut - 1) + 1;
  if (cut >= text.length) cut = text.lastIndexOf(0x0a, text.length - 2) + 1;
  if (cut <= 0) return;
  // A reader sees the old file or the new one, never half of one; the cut is at a line start, so
  // the bytes after it are whole UTF-8. 0o666 leaves the mode to the umask, as the append does.
  await writeFileAtomic(file, text.subarray(cut).toString('utf8'), 0o666);
}

export interface ReadRunsOptions {
  worker?: string;
  /** At most this many records (after filtering by worker). */
  limit?: number;
}

/** Records newest first. Torn, corrupt or unknown-version lines are skipped, never fatal. */
export async function readRuns(stateDir: string, opts: ReadRunsOptions = {}): Promise<RunRecord[]> {
  const limit = opts.limit ?? Infinity;
  if (!(limit >= 0)) throw new RangeError(`limit must be >= 0, got ${limit}`);
  // Not through a link: the history would come from whatever file it points to, and a planted
  // link would read as "no runs" rather than as the refusal every write there gives.
  const text = await readStateText(historyPath(stateDir));
  if (text === undefined) return [];
  const lines = text.split('\n');
  const out: RunRecord[] = [];
  for (let i = lines.length - 1; i >= 0 && out.length < limit; i--) {
    const line = lines[i];
    if (!line) continue;
    const rec = parseRunLine(line);
    if (rec === null) continue;
    if (opts.worker !== undefined && rec.worker !== opts.worker) continue;
    out.push(rec);
  }
  return out;
}

/**
 * The worker's latest run number in the history: records written before runs were numbered count
 * one each, in order, so numbering goes on from where they left off.
 */
function lastRun(lines: string[], worker: string): number {
  let last = 0;
  for (const l of lines) {
    if (!l.includes(worker)) continue;
    const r = parseRunLine(l);
    if (r?.worker === worker) last = r.run ?? last + 1;
  }
  return last;
}
