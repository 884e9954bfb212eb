import { DevsupError } from '../core/errors.js';
import { isAlive, procId } from '../process/proc-start.js';
import { breakLock, createLock, readLockFile, removeLockIf, removeLockSyncIf } from '../state/lock.js';

export interface LockInfo {
  v: 1;
  pid: number;
  /** With pid, the owner's ProcId: a reused pid does not make a dead supervisor look alive. */
  start: string;
  socketPath: string;
  root: string;
  name: string;
  startedAt: string;
}

export interface ControlLock {
  readonly info: LockInfo;
  /** Removes the lock if it is still ours. */
  release(): Promise<void>;
  /** The same, for a process 'exit' handler, where nothing asynchronous runs. */
  releaseSync(): void;
}

export class AlreadyRunningError extends DevsupError {
  constructor(readonly pid: number) {
    super(`another devsup is already running for this project (pid ${pid}); stop it or use --name`, 'already-running', 2);
  }
}

export async function readLock(path: string): Promise<LockInfo | undefined> {
  const seen = await readLockFile(path);
  return typeof seen === 'object' ? parseLock(seen.text) : undefined;
}

export function parseLock(text: string): LockInfo | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockInfo>;
    if (typeof o.pid !== 'number' || typeof o.start !== 'string' || typeof o.socketPath !== 'string') return undefined;
    return o as LockInfo;
  } catch {
    return undefined;
  }
}

export function ownerAlive(info: LockInfo): boolean {
  return isAlive({ pid: info.pid, start: info.start });
}

const ACQUIRE_MS = 10_000;

/**
 * Takes `path` for this process. The content is complete before the lock exists (see createLock),
 * and creating fails when a lock is already there, so two supervisors starting at once cannot both
 * win.
 */
export async function acquireLock(path: string, fields: Pick<LockInfo, 'socketPath' | 'root' | 'name'>): Promise<ControlLock> {
  const self = procId(process.pid);
  if (!self) throw new DevsupError('cannot read this process start time', 'lock', 1);
  const info: LockInfo = { v: 1, pid: self.pid, start: self.start, ...fields, startedAt: new Date().toISOString() };
  const text = `${JSON.stringify(info)}\n`;
  const deadline = Date.now() + ACQUIRE_MS;
  while (!(await createLock(path, text))) {
    if (Date.now() > deadline) throw new DevsupError(`could not take ${path}: other starters keep it busy`, 'lock', 1);
    await removeIfStale(path);
  }
  const ours = (now: string): boolean => {
    const o = parseLock(now);
    return o !== undefined && o.pid === info.pid && o.start === info.start;
  };
  return {
    info,
    release: () => removeLockIf(path, ours),
    releaseSync: () => {
      try {
        removeLockSyncIf(path, ours);
      } catch {
        /* already gone */
      }
    },
  };
}

/**
 * Throws when the lock's owner lives; otherwise deletes the stale lock (anything at the path that
 * is not a lock file, a dangling symlink say, included).
 */
async function removeIfStale(path: string): Promise<void> {
  const seen = await readLockFile(path);
  const info = typeof seen === 'object' ? parseLock(seen.text) : undefined;
  if (info && ownerAlive(info)) throw new AlreadyRunningError(info.pid);
  if (!(await breakLock(path, seen))) await new Promise((r) => setTimeout(r, 5 + Math.random() * 20));
}
