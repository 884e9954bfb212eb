import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { controlPaths } from '../state/paths.js';
import { parseLock } from './lock.js';

export interface RootGuard {
  /** Where the project went, once it moved; undefined while it has not (or it was removed). */
  readonly movedTo: string | undefined;
  /**
   * Looks now rather than at the next tick: before a change is acted on, since a project moved away
   * and a directory made at its old path look to the watcher like every file removed.
   */
  check(): void;
  /** Stops looking; after a move, removes the lock, socket and child record left in the new place. */
  close(): void;
}

/** How often the root's identity is checked: one lstat, so cheap enough for once a second. */
const CHECK_MS = 1000;

/**
 * Notices that the project directory was renamed, moved or removed while a supervisor runs in it:
 * its path then names another directory or none, and everything devsup keeps under
 * `<root>/.devsup` (index, history, lock, socket) would be written at the old path or left behind
 * in the new one. The directory's device and inode are compared with the path's every second;
 * an open descriptor on the directory tells, through /proc, where it went (Linux).
 */
export function guardRoot(root: string, name: string, onMoved: (movedTo: string | undefined) => void, checkMs = CHECK_MS): RootGuard {
  let first: { dev: number; ino: number };
  try {
    const st = statSync(root);
    first = { dev: st.dev, ino: st.ino };
  } catch {
    return { movedTo: undefined, check: () => undefined, close: () => undefined };
  }
  let fd: number | undefined;
  try {
    fd = openSync(root, 'r');
  } catch {
    // Not every platform opens a directory for reading; the move is still noticed, not followed.
  }
  let moved = false;
  let movedTo: string | undefined;
  const check = (): void => {
    if (moved) return;
    let same = false;
    try {
      const st = statSync(root);
      same = st.dev === first.dev && st.ino === first.ino;
    } catch {
      same = false;
    }
    if (same) return;
    clearInterval(timer);
    moved = true;
    movedTo = whereNow(fd);
    onMoved(movedTo);
  };
  const timer = setInterval(check, checkMs);
  timer.unref();
  return {
    get movedTo() {
      return movedTo;
    },
    check,
    close() {
      clearInterval(timer);
      if (moved && movedTo !== undefined) tidyMoved(movedTo, name);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

function whereNow(fd: number | undefined): string | undefined {
  if (fd === undefined || process.platform !== 'linux') return undefined;
  try {
    const path = readlinkSync(`/proc/self/fd/${fd}`);
    return path.endsWith(' (deleted)') ? undefined : path;
  } catch {
    return undefined;
  }
}

/**
 * The lock, socket and child record this supervisor left in the moved directory: removed when the
 * lock there is still this process's, so nothing of another supervisor is touched.
 */
function tidyMoved(dir: string, name: string): void {
  const p = controlPaths(dir, name);
  let ours = false;
  try {
    const info = parseLock(readFileSync(p.lock, 'utf8'));
    ours = info?.pid === process.pid;
  } catch {
    return;
  }
  if (!ours) return;
  try {
    if (lstatSync(p.localSocket).isSocket()) rmSync(p.localSocket, { force: true });
  } catch {
    // No socket there (it lives in the runtime directory, or is gone).
  }
  rmSync(p.children, { force: true });
  rmSync(p.sockPathFile, { force: true });
  rmSync(p.lock, { force: true });
}
