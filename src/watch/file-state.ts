import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/**
 * What is remembered of one file, packed into one string because a big tree keeps 100,000 of them
 * (about half the memory of an object with a hash string and boxed numbers):
 *   - 27 characters: sha1, in base64 without padding, of the path relative to the tree's base, a
 *     NUL and the content (so renames count as changes); equal prefixes mean equal content;
 *   - 1 character: `t` when the stat below is trusted, `u` when it is not: a file whose ctime is
 *     too close to when it was read may have changed again within the same clock tick, so it is
 *     read again the next time it is looked at (as git does with "racily clean" index entries);
 *   - the stat identity `size:ctime:inode`. Every write and every utimes() sets ctime to the
 *     present, so mtime adds nothing (and it is what `touch -d`, `tar` and `cp -p` put back).
 */
export type FileState = string;

const HASH_LEN = 27;

/** Whether two states describe the same content. */
export function sameContent(a: FileState, b: FileState): boolean {
  for (let i = 0; i < HASH_LEN; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return false;
  return true;
}

/** The content part of a state. */
export function contentOf(st: FileState): string {
  return st.slice(0, HASH_LEN);
}

/** The ctime (ms) the file had when the state was taken: its content was the state's from then until that read. */
export function ctimeOfState(st: FileState): number | undefined {
  const ctime = Number(st.slice(HASH_LEN + 1).split(':')[1]);
  return Number.isFinite(ctime) ? ctime : undefined;
}

/** Whether the state may be taken again on its stat alone. */
export function trusted(st: FileState): boolean {
  return st.charCodeAt(HASH_LEN) === 116; // 't'
}

function statIdentity(st: Stats): string {
  return `${st.size}:${st.ctimeMs}:${st.ino}`;
}

/**
 * How far before a moment a ctime may lie and still be a change made after it. Timestamps come
 * from the kernel's coarse clock, a tick (1–10 ms) behind the real time; a filesystem that keeps
 * whole seconds (ext3, some network and FAT-like ones) is given two seconds.
 */
const FINE_MARGIN_MS = 50;
const COARSE_MARGIN_MS = 2000;

/** Whether a file or directory with this ctime may have changed at or after `since` (Date.now() clock). */
export function changedSince(ctimeMs: number, since: number): boolean {
  return ctimeMs >= since - (ctimeMs % 1000 === 0 ? COARSE_MARGIN_MS : FINE_MARGIN_MS);
}

/** Whatever is newer than this, relative to the read, is not trusted to stat alone. */
const RACY_WINDOW_MS = 200;

/**
 * Whether a ctime is old enough to vouch for what was seen now: timestamps come from a coarse
 * clock, and two changes in one tick can leave the same ctime (git's "racily clean" problem).
 */
export function pastRacyWindow(ctimeMs: number): boolean {
  return Date.now() - ctimeMs > RACY_WINDOW_MS;
}
const CHUNK = 64 * 1024;
/** One buffer for every read: files are read synchronously, one at a time. */
const buffer = Buffer.allocUnsafe(CHUNK);

/**
 * The state of `path` now: `prev` itself when size, ctime and inode are unchanged and it was
 * trusted, a freshly read state otherwise, undefined when it is not a readable file.
 * Synchronous on purpose: one open, fstat, read and close per file costs a fraction of the same
 * calls through promises, and callers yield between slices of files.
 */
export function readFileState(path: string, rel: string, prev?: FileState, recheck = false): FileState | undefined {
  if (prev !== undefined && trusted(prev)) {
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    const id = statIdentity(st);
    if (prev.length === HASH_LEN + 1 + id.length && prev.endsWith(id)) return prev;
  }
  return readAndHash(path, rel, recheck);
}

const scratch = Buffer.allocUnsafe(256);

/**
 * One flat string: joining strings with + or a template makes a tree of string pieces that
 * costs more than the characters themselves.
 */
function pack(hash: string, flag: string, id: string): FileState {
  let n = scratch.write(hash.slice(0, HASH_LEN), 0, 'latin1');
  n += scratch.write(flag, n, 'latin1');
  n += scratch.write(id, n, 'latin1');
  return scratch.toString('latin1', 0, n);
}

/**
 * With `recheck`, the file is stat'ed again once read: a write that landed during the read leaves
 * a state with the later ctime, never trusted, so whoever compares that ctime with a moment (an
 * early start's spawn) sees the write, and the next look reads the file again.
 */
function readAndHash(path: string, rel: string, recheck: boolean): FileState | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // gone since it was listed, or unreadable: simply not there
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return undefined;
    const h = createHash('sha1').update(rel).update('\0');
    // Reading stops at the size fstat saw: a file that grows meanwhile sends an event of its own.
    for (let total = 0; total < st.size; ) {
      const n = readSync(fd, buffer, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buffer.subarray(0, n));
      total += n;
    }
    const id = statIdentity(st);
    if (recheck) {
      const after = statIdentity(fstatSync(fd));
      if (after !== id) return pack(h.digest('base64'), 'u', after);
    }
    const flag = pastRacyWindow(st.ctimeMs) ? 't' : 'u';
    return pack(h.digest('base64'), flag, id);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
