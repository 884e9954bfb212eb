import { closeSync, constants, fstatSync, openSync, readFileSync, rmSync } from 'node:fs';
import { lstat, open, rm } from 'node:fs/promises';
import { createFileExclusive } from './files.js';
import { errCode, StateError } from './errors.js';

/*
 * The mechanics shared by devsup's lock files (the supervisor's long-held lock and the short locks
 * around the history): a lock exists only with its whole content, is read without following a link,
 * and a stale one is removed under a second, short-lived lock so that two starters cannot both
 * delete it. What makes a lock stale is each user's own judgement.
 */

/** What is at a lock's path: nothing, a lock file (its text and age), or something else. */
export type LockSeen = { text: string; ageMs: number } | 'none' | 'not-a-lock';

/**
 * Something that is not a regular file where a lock belongs (a symlink, dangling or not, a
 * directory, a FIFO) holds nothing: it is removed like any stale lock rather than waited on.
 */
export const NOT_A_LOCK = 'not-a-lock';

/** Takes `path` with `text` if nothing is there; false when something is. */
export function createLock(path: string, text: string, mode = 0o600): Promise<boolean> {
  return createFileExclusive(path, text, mode);
}

export async function readLockFile(path: string): Promise<LockSeen> {
  let fh;
  try {
    // O_NONBLOCK: a FIFO planted there must not block the open.
    fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return 'none';
    if (errCode(err) === 'ELOOP') return NOT_A_LOCK;
    throw err;
  }
  try {
    // Content and age from one open file, so they cannot describe two different locks.
    const st = await fh.stat();
    if (!st.isFile()) return NOT_A_LOCK;
    return { text: await fh.readFile('utf8'), ageMs: Date.now() - st.mtimeMs };
  } finally {
    await fh.close();
  }
}

/** The text of the lock at `path`, or undefined when there is none; for exit handlers. */
export function readLockTextSync(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    return fstatSync(fd).isFile() ? readFileSync(fd, 'utf8') : undefined;
  } finally {
    closeSync(fd);
  }
}

/** Removes `path` if it still holds `text` (a lock of ours, say); for exit handlers. */
export function removeLockSyncIf(path: string, ours: (text: string) => boolean): void {
  const text = readLockTextSync(path);
  if (text !== undefined && ours(text)) rmSync(path, { force: true });
}

/** Removes `path` if it still holds `text`. */
export async function removeLockIf(path: string, ours: (text: string) => boolean): Promise<void> {
  const seen = await readLockFile(path).catch(() => 'none' as const);
  if (typeof seen === 'object' && ours(seen.text)) await rm(path, { force: true });
}

/** Removes a stale lock, or whatever non-directory stands in its place; a directory is refused. */
async function removeNonDir(path: string): Promise<void> {
  const st = await lstat(path).catch(() => null);
  if (st?.isDirectory()) throw new StateError(`${path} is a directory; devsup keeps a lock file there (remove it)`, path);
  await rm(path, { force: true });
}

/** A breaker holds `<lock>.break` for a few syscalls; one this old belongs to a breaker that crashed. */
const BREAKER_STALE_MS = 5000;

function same(a: LockSeen, b: LockSeen): boolean {
  return typeof a === 'object' && typeof b === 'object' ? a.text === b.text : a === b;
}

/**
 * Removes the lock at `path`, which its caller judged stale as `seen`, if it is still the very same
 * lock: without that, a starter that judged late could delete the lock another one has just taken.
 * False when another breaker is at it (the caller waits a little and looks again).
 */
export async function breakLock(path: string, seen: LockSeen): Promise<boolean> {
  if (seen === 'none') return true;
  const breaker = `${path}.break`;
  if (!(await createLock(breaker, `${process.pid}\n`))) {
    const st = await lstat(breaker).catch(() => null);
    // A breaker that is not a file of ours is no breaker at all.
    if (st && (!st.isFile() || Date.now() - st.mtimeMs > BREAKER_STALE_MS)) await rm(breaker, { force: true });
    return false;
  }
  try {
    if (same(await readLockFile(path), seen)) await removeNonDir(path);
  } finally {
    await rm(breaker, { force: true });
  }
  return true;
}
