import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Every pid a test starts (or learns of) goes here; the setup file fails the test if one survives. */
const tracked = new Set<number>();

export function trackPid(pid: number | undefined): void {
  if (pid !== undefined && pid > 0) tracked.add(pid);
}

/** Alive means present and not a zombie: this machine's init reaps orphans late. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * Children a test file starts itself and ends after each test: `keep` tracks one and returns it,
 * `killAll` (for afterEach) sends each SIGKILL and waits until it has exited.
 */
export function childKeeper(): { keep<T extends ChildProcess>(child: T): T; killAll(): Promise<void> } {
  const kept: ChildProcess[] = [];
  return {
    keep(child) {
      kept.push(child);
      trackPid(child.pid);
      return child;
    },
    killAll: () =>
      Promise.all(
        kept.splice(0).map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              c.once('exit', () => resolve());
              c.kill('SIGKILL');
            }),
        ),
      ).then(() => undefined),
  };
}

/** Kills every tracked pid that is still alive and returns the ones that were. */
export function reapTracked(): number[] {
  const survivors: number[] = [];
  for (const pid of tracked) {
    if (isAlive(pid)) {
      survivors.push(pid);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
  tracked.clear();
  return survivors;
}

/** Pids whose parent is `pid`, from /proc. */
export function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(/\s+/).map(Number);
  } catch {
    return [];
  }
}
