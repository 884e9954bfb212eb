import { randomBytes } from 'node:crypto';
import { lstat, mkdir, chmod, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DevsupError } from '../core/errors.js';

export function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}

/** Readers see the old content or the new one, never a half-written file. */
export async function writeFileAtomic(path: string, text: string, mode = 0o600): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { mode, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * A directory only we can enter. The socket inside is guarded by this, not by its own mode, so a
 * directory someone else owns (or a symlink planted in a shared /tmp) is refused rather than used.
 */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new DevsupError(`${dir} is not a directory`, 'control-dir', 2);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new DevsupError(`${dir} belongs to another user (uid ${st.uid}); refusing to put a control socket there`, 'control-dir', 2);
  }
  if ((st.mode & 0o777) !== 0o700) await chmod(dir, 0o700);
}

/**
 * Everything in the state directory is this machine's (sockets, locks, logs, the file index of a
 * big tree runs to megabytes): a `.gitignore` of its own keeps it out of `git status` without the
 * project having to say so. One that exists is left as it is.
 */
export async function keepOutOfGit(dir: string): Promise<void> {
  // A courtesy: a directory where it cannot be written is no reason to stop.
  await writeFile(join(dir, '.gitignore'), '# written by devsup: nothing here belongs in git\n*\n', { flag: 'wx' }).catch(() => undefined);
}
