import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { connectControl } from '../../control/client.js';
import { ownerAlive, readLock, type LockInfo } from '../../control/lock.js';
import { errorMessage } from '../../core/errors.js';
import type { AskSupervisors, SupervisorAnswer } from '../../stale/supervised.js';

/** A supervisor that does not answer this fast is reported as not answering; ps must not hang on it. */
const ASK_TIMEOUT_MS = 3000;

/** Live supervisors' locks in `.devsup/` of each directory given and of every directory above them. */
export async function findSupervisorLocks(dirs: readonly string[]): Promise<LockInfo[]> {
  const seen = new Set<string>();
  const files: string[] = [];
  for (const start of dirs) {
    for (let dir = start; !seen.has(dir); dir = dirname(dir)) {
      seen.add(dir);
      let names: string[] = [];
      try {
        names = readdirSync(join(dir, '.devsup'));
      } catch {
        // no state directory here
      }
      for (const n of names) if (n.endsWith('.lock')) files.push(join(dir, '.devsup', n));
      if (dirname(dir) === dir) break;
    }
  }
  const locks = await Promise.all(files.map((f) => readLock(f).catch(() => undefined)));
  return locks.filter((l): l is LockInfo => l !== undefined && ownerAlive(l));
}

/** Asks each supervisor over its control socket for its workers' pids and verdicts. */
export function askOverSocket(locks: readonly LockInfo[]): AskSupervisors {
  return async (supervisors) => {
    const more = await findSupervisorLocks(supervisors.flatMap((s) => (s.cwd === undefined ? [] : [s.cwd])));
    const all = [...locks, ...more];
    const entries = await Promise.all(
      supervisors.map(async (s): Promise<[number, SupervisorAnswer]> => {
        const lock = all.find((l) => l.pid === s.pid && l.start === s.start);
        if (!lock) return [s.pid, { ok: false, reason: 'no lock file of it found, so it cannot be asked' }];
        return [s.pid, await ask(lock)];
      }),
    );
    return new Map(entries);
  };
}

async function ask(lock: LockInfo): Promise<SupervisorAnswer> {
  try {
    const client = await connectControl({ root: lock.root, name: lock.name, startupWaitMs: 0 });
    try {
      const snap = await client.request('snapshot', {}, ASK_TIMEOUT_MS);
      return { ok: true, workers: snap.workers.map((w) => ({ name: w.name, pid: w.pid, verdict: w.verdict, staleFiles: w.staleFiles })) };
    } finally {
      client.close();
    }
  } catch (err) {
    return { ok: false, reason: `did not answer: ${errorMessage(err)}` };
  }
}
