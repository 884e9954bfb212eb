import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { DevsupError } from '../core/errors.js';

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

const BREAK_LOCK_STALE_MS = 5_000;

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A zombie still answers kill(0) but will never release anything, so /proc decides on Linux. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return errCode(err) === 'EPERM';
  }
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = s.charAt(s.lastIndexOf(')') + 2);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

async function readHolder(lockPath: string): Promise<Holder | null> {
  let fh;
  try {
    fh = await open(lockPath, 'r');
  } catch (err) {
    if (errCode(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    // Content and age from one open file, so they cannot describe two different locks.
    const [text, st] = [await fh.readFile('utf8'), await fh.stat()];
    const [pidText = '', host = ''] = text.trim().split(' ');
    const pid = /^\d+$/.test(pidText) ? Number(pidText) : null;
    return { token: text, pid, host, ageMs: Date.now() - st.mtimeMs };
  } finally {
    await fh.close();
  }
}

function isStale(h: Holder, staleMs: number): boolean {
  if (h.ageMs > staleMs) return true;
  // Empty content means the holder is between creating the file and writing its pid.
  if (h.pid === null || h.host !== hostname()) return false;
  return !pidAlive(h.pid);
}

/**
 * Removes a stale lock. Breakers take a second lock first: without it, two processes that both
 * saw the same dead holder could each delete a lock, the second one deleting the fresh lock the
 * first one's successor had just created.
 */
async function breakIfStale(lockPath: string, staleMs: number): Promise<boolean> {
  const seen = await readHolder(lockPath);
  if (seen === null) return true;
  if (!isStale(seen, staleMs)) return false;
  const breakPath = `${lockPath}.break`;
  try {
    await writeFile(breakPath, `${process.pid}\n`, { flag: 'wx' });
  } catch (err) {
    if (errCode(err) !== 'EEXIST') throw err;
    // Held for a few syscalls only; an old one belongs to a breaker that crashed.
    const st = await stat(breakPath).catch(() => null);
    if (st && Date.now() - st.mtimeMs > BREAK_LOCK_STALE_MS) await rm(breakPath, { force: true });
    return false;
  }
  try {
    const now = await readHolder(lockPath);
    if (now !== null && isStale(now, staleMs)) await rm(lockPath, { force: true });
  } finally {
    await rm(breakPath, { force: true });
  }
  return true;
}

async function acquire(lockPath: string, maxWaitMs: number, staleMs: number): Promise<string> {
  const token = `${process.pid} ${hostname()} ${randomBytes(6).toString('hex')}\n`;
  const deadline = Date.now() + maxWaitMs;
  let delay = 1;
  for (;;) {
    let fh;
    try {
      fh = await open(lockPath, 'wx');
    } catch (err) {
      if (errCode(err) !== 'EEXIST') throw err;
    }
    if (fh) {
      try {
        await fh.writeFile(token);
      } catch (err) {
        await fh.close();
        await rm(lockPath, { force: true });
        throw err;
      }
      await fh.close();
      return token;
    }
    if (await breakIfStale(lockPath, staleMs)) continue;
    if (Date.now() >= deadline) {
      const h = await readHolder(lockPath);
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
    const h = await readHolder(lockPath).catch(() => null);
    if (h?.token === token) await rm(lockPath, { force: true });
  }
}
