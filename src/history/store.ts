import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withFileLock, type LockOptions } from './lock.js';
import { parseRunLine, runRecordProblem, type RunRecord } from './record.js';

export type { RunRecord, RunResult } from './record.js';
export { saveRunLog, logDir, newRunId } from './logs.js';

export function historyPath(stateDir: string): string {
  return join(stateDir, 'history.jsonl');
}

/**
 * Appends one record as one line. Several devsup processes may share a state directory, and
 * records with long changedFiles lists exceed PIPE_BUF, so a single O_APPEND write is not enough
 * to keep lines whole everywhere (NFS, partial writes): the append happens under a lock file.
 */
export async function appendRun(stateDir: string, rec: RunRecord, lock?: LockOptions): Promise<void> {
  // Refuse here what readRuns would silently skip later.
  const problem = runRecordProblem(rec);
  if (problem !== null) throw new TypeError(`invalid run record: ${problem}`);
  const line = `${JSON.stringify(rec)}\n`;
  const file = historyPath(stateDir);
  await mkdir(stateDir, { recursive: true });
  await withFileLock(
    `${file}.lock`,
    async () => {
      const fh = await open(file, 'a+');
      try {
        // A crash mid-write leaves a line without its newline; without one of our own, this
        // record would be glued onto that fragment and be lost with it.
        const { size } = await fh.stat();
        let prefix = '';
        if (size > 0) {
          const { bytesRead, buffer } = await fh.read(Buffer.alloc(1), 0, 1, size - 1);
          if (bytesRead === 1 && buffer[0] !== 0x0a) prefix = '\n';
        }
        await fh.writeFile(prefix + line);
      } finally {
        await fh.close();
      }
    },
    lock,
  );
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
  let text: string;
  try {
    text = await readFile(historyPath(stateDir), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
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
