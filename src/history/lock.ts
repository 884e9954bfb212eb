import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { DevsupError } from '../core/errors.js';
import { pidAlive } from '../process/proc-start.js';
import { breakLock, createLock, readLockFile, removeLockIf, type LockSeen } from '../state/lock.js';

export interface LockOptions {
  /** Give up after waiting this long for another holder (default 10 s). */
  maxWaitMs?: number;
  /**
   * A lock older than this is taken over even if its pid looks alive (default 30 s): the pid may
   * have been reused, or the holder is on another host. Holders keep it for milliseconds.
   */
  staleMs?: number;
}

interface Holder {
  token: string;
  pid: number | null;
  host: string;
  ageMs: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function holderOf(seen: LockSeen): Holder | null {
  if (typeof seen !== 'object') return null;
  const [pidText = '', host = ''] = seen.text.trim().split(' ');
  const pid = /^\d+$/.test(pidText) ? Number(pidText) : null;
  return { token: seen.text, pid, host, ageMs: seen.ageMs };
}

function isStale(seen: LockSeen, staleMs: number): boolean {
  // Not a lock file (a symlink, dangling or not): nobody holds it.
  if (seen === 'not-a-lock') return true;
  const h = holderOf(seen);
  if (h === null) return false;
  if (h.ageMs > staleMs) return true;
  // A pid on another host cannot be checked from here: only age makes such a lock stale.
  if (h.pid === null || h.host !== hostname()) return false;
  return !pidAlive(h.pid);
}

async function acquire(lockPath: string, maxWaitMs: number, staleMs: number): Promise<string> {
  const token = `${process.pid} ${hostname()} ${randomBytes(6).toString('hex')}\n`;
  const deadline = Date.now() + maxWaitMs;
  let delay = 1;
  for (;;) {
    // Mode 0o666: left to the umask, as the history file itself is.
    if (await createLock(lockPath, token, 0o666)) return token;
    const seen = await readLockFile(lockPath);
    if (seen === 'none' || (isStale(seen, staleMs) && (await breakLock(lockPath, seen)))) continue;
    if (Date.now() >= deadline) {
      const h = holderOf(seen);
      const who = h?.pid ? `pid ${h.pid}${h.host === hostname() ? '' : ` on ${h.host}`}` : 'another process';
      throw new DevsupError(
        `${lockPath} is held by ${who} (for ${Math.round(h?.ageMs ?? 0)} ms); gave up after ${maxWaitMs} ms`,
        'lock-timeout',
      );
    }
    // Jitter keeps processes that collided once from colliding again in lockstep.
    await sleep(delay * (0.5 + Math.random()));
    delay = Math.min(delay * 2, 16);
  }
}

/** Runs `fn` while holding `lockPath` (created with O_EXCL), across processes. */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  opts: LockOptions = {},
): Promise<T> {
  const token = await acquire(lockPath, opts.maxWaitMs ?? 10_000, opts.staleMs ?? 30_000);
  try {
    return await fn();
  } finally {
    // Only our own lock: if we were judged stale and replaced, the file is someone else's now.
    await removeLockIf(lockPath, (text) => text === token);
  }
}
