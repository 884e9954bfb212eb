import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';

/** One file's content identity. */
export interface FileEntry {
  size: number;
  /**
   * sha1 of the path relative to the tree's base, a NUL, and the content, in base64 (a big tree
   * keeps one per file): renames count as changes.
   */
  hash: string;
}

/** What is remembered of a file between snapshots, so an unchanged file is not read again. */
export interface FileState extends FileEntry {
  /**
   * Every write and every utimes() sets ctime to the present, so ctime with size and inode is the
   * file's identity; mtime adds nothing (and is what `touch -d`, `tar` and `cp -p` put back).
   */
  ctimeMs: number;
  ino: number;
  /**
   * A stat-identical file may still have changed when its ctime is too close to when it was read
   * (timestamps come from a coarse clock), so such an entry is read again the next time it is
   * looked at (as git does with "racily clean" index entries).
   */
  trusted: boolean;
}

/** Whatever is newer than this, relative to the read, is not trusted to stat alone. */
const RACY_WINDOW_MS = 200;
const CHUNK = 64 * 1024;
/** One buffer for every read: files are read synchronously, one at a time. */
const buffer = Buffer.allocUnsafe(CHUNK);

/**
 * The state of `path` now: `prev` itself when size, ctime and inode are unchanged and it was
 * trusted, a freshly read state otherwise, undefined when it is not a readable file.
 * Synchronous on purpose: one open, fstat, read and close per file costs a fraction of the same
 * calls through promises, and callers yield between slices of files.
 */
export function readFileState(path: string, rel: string, prev?: FileState): FileState | undefined {
  if (prev?.trusted) {
    let st: Stats;
    try {
      st = statSync(path);
    } catch {
      return undefined;
    }
    if (!st.isFile()) return undefined;
    if (sameStat(prev, st)) return prev;
  }
  return readAndHash(path, rel);
}

function readAndHash(path: string, rel: string): FileState | undefined {
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
    return {
      size: st.size,
      hash: h.digest('base64'),
      ctimeMs: st.ctimeMs,
      ino: st.ino,
      trusted: Date.now() - st.ctimeMs > RACY_WINDOW_MS,
    };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

function sameStat(prev: FileState, st: Stats): boolean {
  return prev.size === st.size && prev.ctimeMs === st.ctimeMs && prev.ino === st.ino;
}
