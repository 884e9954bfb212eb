import { readFileSync, rmSync } from 'node:fs';
import { lstat, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DevsupError } from '../core/errors.js';

export interface PrefixClaim {
  dir: string;
  release(): void;
}

/** Past this many prefixes of one name in use at once, something is wrong. */
const MAX_SIBLINGS = 32;

/** Locks this process holds, removed on exit even when nothing released them. */
const held = new Set<string>();
let exitHook = false;

/**
 * Claims `<root>/<key>` for this process, or `<key>.2`, `<key>.3`… when a live process holds the
 * first ones (two `flake` sessions side by side, two supervisors of other names with a worker of
 * the same name). A lock whose process is gone is taken over. A pid reused by some other process
 * only makes a prefix look taken: the next one is used, never a shared one.
 */
export async function claimPrefixDir(root: string, key: string): Promise<PrefixClaim> {
  for (let i = 1; i <= MAX_SIBLINGS; i++) {
    const name = i === 1 ? key : `${key}.${i}`;
    const lock = join(root, `${name}.lock`);
    if (!(await tryLock(lock))) continue;
    const dir = join(root, name);
    try {
      await realDir(dir);
    } catch (err) {
      releaseLock(lock);
      throw err;
    }
    return { dir, release: () => releaseLock(lock) };
  }
  throw new DevsupError(`${MAX_SIBLINGS} bytecode directories named ${key} are in use in ${root}`, 'pycache', 1);
}

/** Whether a live process other than this one holds the lock file at `path`. */
export function lockHeldElsewhere(path: string): boolean {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
  } catch {
    return false;
  }
  return pid !== process.pid && alive(pid);
}

async function tryLock(lock: string): Promise<boolean> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      // `wx` never follows a link planted at the lock's name: an existing entry of any kind fails.
      await writeFile(lock, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      held.add(lock);
      if (!exitHook) {
        exitHook = true;
        process.once('exit', () => {
          for (const l of held) rmSync(l, { force: true });
        });
      }
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const st = await lstat(lock).catch(() => undefined);
    if (!st) continue; // released meanwhile
    if (!st.isFile()) return false; // not a lock of ours: leave it, use another name
    const pid = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
    // Ours already (another worker of this process), or a live process's.
    if (held.has(lock) || (pid !== process.pid && alive(pid))) return false;
    await rm(lock, { force: true });
  }
  return false;
}

function releaseLock(lock: string): void {
  if (!held.delete(lock)) return;
  rmSync(lock, { force: true });
}

/** A directory created here or found as a real directory: never a symlink to somewhere else. */
async function realDir(dir: string): Promise<void> {
  await mkdir(dir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EEXIST') throw err;
  });
  const st = await lstat(dir);
  if (!st.isDirectory()) throw new DevsupError(`${dir} is not a directory (a symlink?); not using it for bytecode`, 'pycache', 1);
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
