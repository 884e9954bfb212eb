import { randomBytes } from 'node:crypto';
import { closeSync, constants, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { linkRefused, StateError, stateWriteError } from './errors.js';

export { errCode } from './errors.js';

/*
 * Everything devsup writes under `.devsup/` goes through this file, so that no write, rename or
 * delete there follows a symlink someone planted: the directories are made and checked one level
 * at a time with lstat, files are created with O_EXCL (which does not follow a link either) and put
 * in place by rename (which replaces a link rather than writing through it), and appends open with
 * O_NOFOLLOW. A link swapped in between a check and a use is not caught: only the owner of the
 * 0700 directory can do that, and it would gain nothing it does not have already.
 */

/** `<path>.<pid>.<8 hex>.tmp`: unique per writer, and recognisable as ours when it is left behind. */
export function tempPathFor(path: string): string {
  return `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

/** Whether `name` is a temp file devsup made for the file named `base` (`<base>.<pid>.tmp` before tempPathFor). */
export function isTempOf(name: string, base: string): boolean {
  return name.startsWith(`${base}.`) && /^\.\d+(\.[0-9a-f]{8})?\.tmp$/.test(name.slice(base.length));
}

/** Readers see the old content or the new one, never a half-written file. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw stateWriteError(err, path);
  }
}

/** A file being written under a temp name; `commit` puts it in place, `abort` removes it. */
export interface AtomicFileSync {
  readonly fd: number;
  commit(): void;
  abort(): void;
}

/** The synchronous form of writeFileAtomic, for a file written in pieces. */
export function openAtomicSync(path: string, mode = 0o600): AtomicFileSync {
  const tmp = tempPathFor(path);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', mode);
  } catch (err) {
    throw stateWriteError(err, path);
  }
  let isOpen = true;
  const close = (): void => {
    if (isOpen) closeSync(fd);
    isOpen = false;
  };
  return {
    fd,
    commit: () => {
      try {
        close();
        renameSync(tmp, path);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw stateWriteError(err, path);
      }
    },
    abort: () => {
      try {
        close();
      } finally {
        rmSync(tmp, { force: true });
      }
    },
  };
}

export function writeFileAtomicSync(path: string, data: string | Uint8Array, mode = 0o600): void {
  const f = openAtomicSync(path, mode);
  try {
    writeAllSync(f.fd, data);
  } catch (err) {
    f.abort();
    throw stateWriteError(err, path);
  }
  f.commit();
}

function writeAllSync(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  for (let at = 0; at < buf.length; ) at += writeSync(fd, buf, at, buf.length - at);
}

/**
 * Creates `path` with `data` only if nothing (not even a dangling symlink) is there; false when
 * something is. The content is complete before the name exists: it is written under a temp name and
 * linked into place, which (unlike rename) fails when the name is taken. So a reader never sees it
 * empty, and a full disk leaves neither an empty file nor the temp file behind.
 */
export async function createFileExclusive(path: string, data: string, mode = 0o600): Promise<boolean> {
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data, { mode, flag: 'wx' });
    await link(tmp, path);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (NO_HARD_LINKS.has(code)) return createByOpen(path, data, mode);
    throw stateWriteError(err, path);
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
}

/** What link() fails with where the file system has no hard links (FAT, some network mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * createFileExclusive where there are no hard links: O_EXCL still makes it exclusive, but the file
 * is empty for a moment before its content lands; one the write fails on is removed again.
 */
async function createByOpen(path: string, data: string, mode: number): Promise<boolean> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw stateWriteError(err, path);
  }
  try {
    await fh.writeFile(data);
  } catch (err) {
    await fh.close();
    await rm(path, { force: true });
    throw stateWriteError(err, path);
  }
  await fh.close();
  return true;
}

/** Opens `path` to append (created when missing), refusing a symlink there. */
export async function openForAppend(path: string, mode = 0o666): Promise<FileHandle> {
  try {
    return await open(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw linkRefused(path);
    throw stateWriteError(err, path);
  }
}

/** The text of `path`, or undefined when it does not exist, refusing a symlink there. */
export async function readStateText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', flag: constants.O_RDONLY | constants.O_NOFOLLOW });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP') throw linkRefused(path);
    throw err;
  }
}

/** The whole content of an open file, read through the handle rather than by path again. */
export async function readWhole(fh: FileHandle): Promise<Buffer> {
  const { size } = await fh.stat();
  const buf = Buffer.alloc(size);
  let at = 0;
  while (at < size) {
    const { bytesRead } = await fh.read(buf, at, size - at, at);
    if (bytesRead === 0) break;
    at += bytesRead;
  }
  return buf.subarray(0, at);
}

/**
 * A directory only we can enter. The socket inside is guarded by this, not by its own mode, so a
 * directory someone else owns (or a symlink planted in a shared /tmp) is refused rather than used.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  try {
    // Not recursive first: a recursive mkdir reports a read-only file system as ENOENT.
    await mkdir(dir, { mode: 0o700 }).catch((err: unknown) => {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return mkdir(dir, { recursive: true, mode: 0o700 });
      throw err;
    });
  } catch (err) {
    throw stateWriteError(err, dir);
  }
  const st = await lstat(dir);
  if (st.isSymbolicLink()) throw linkRefused(dir);
  if (!st.isDirectory()) throw new StateError(`${dir} is not a directory`, dir);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new StateError(`${dir} belongs to another user (uid ${st.uid}); refusing to keep devsup's state there`, dir);
  }
  if ((st.mode & 0o777) !== 0o700) await chmod(dir, 0o700).catch((err: unknown) => Promise.reject(stateWriteError(err, dir)));
}

function checkSegment(segment: string): void {
  if (segment === '' || segment === '.' || segment === '..' || segment.includes('/') || segment.includes('\0')) {
    throw new RangeError(`not a single path segment: ${JSON.stringify(segment)}`);
  }
}

function refuseUnlessDir(path: string, st: { isSymbolicLink(): boolean; isDirectory(): boolean }): void {
  if (st.isSymbolicLink()) throw linkRefused(path);
  if (!st.isDirectory()) throw new StateError(`${path} is not a directory; devsup keeps its own directory there`, path);
}

/**
 * `<stateDir>/<segments...>` as real directories, made where missing: the state directory itself
 * (private, see ensurePrivateDir), then each level below it, none of which may be a symlink.
 */
export async function stateSubdir(stateDir: string, ...segments: string[]): Promise<string> {
  await ensurePrivateDir(stateDir);
  let dir = stateDir;
  for (const s of segments) {
    checkSegment(s);
    dir = join(dir, s);
    try {
      await mkdir(dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateWriteError(err, dir);
    }
    refuseUnlessDir(dir, await lstat(dir));
  }
  return dir;
}

/** The synchronous form of stateSubdir. */
export function stateSubdirSync(stateDir: string, ...segments: string[]): string {
  const dirs = [stateDir, ...segments.map((s, i) => (checkSegment(s), join(stateDir, ...segments.slice(0, i + 1))))];
  for (const [i, dir] of dirs.entries()) {
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // The state directory's parents are the project's, made if need be; below it, nothing is
      // made through a link.
      if (code === 'ENOENT' && i === 0) {
        try {
          mkdirSync(dir, { mode: 0o700, recursive: true });
        } catch (again) {
          throw stateWriteError(again, dir);
        }
      } else if (code !== 'EEXIST') throw stateWriteError(err, dir);
    }
    refuseUnlessDir(dir, lstatSync(dir));
  }
  return dirs[dirs.length - 1]!;
}

/** The parts of lstat pruning looks at. */
interface Entry {
  name: string;
  isFile(): boolean;
  isDirectory(): boolean;
}

/**
 * Only what devsup itself made may be pruned: a regular file or a real directory (never a link,
 * whatever it points to) whose name it chose. Whatever else is found there is left alone.
 */
export function prunable(e: Entry, kind: 'file' | 'dir', ours: (name: string) => boolean): boolean {
  return (kind === 'file' ? e.isFile() : e.isDirectory()) && ours(e.name);
}

/**
 * Everything in the state directory is this machine's (sockets, locks, logs, the file index of a
 * big tree runs to megabytes): a `.gitignore` of its own keeps it out of `git status` without the
 * project having to say so. One that exists is left as it is.
 */
export async function keepOutOfGit(dir: string): Promise<void> {
  const file = join(dir, '.gitignore');
  const text = '# written by devsup: nothing here belongs in git\n*\n';
  // A courtesy: a directory where it cannot be written is no reason to stop, and the file is
  // complete before it exists, so a full disk leaves none rather than an empty one.
  const created = await createFileExclusive(file, text, 0o644).catch(() => true);
  if (created) return;
  // An empty one is what a full disk left behind before writes were made whole: written again.
  const st = await lstat(file).catch(() => null);
  if (st?.isFile() && st.size === 0) await writeFileAtomic(file, text, 0o644).catch(() => undefined);
}
