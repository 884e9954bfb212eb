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
