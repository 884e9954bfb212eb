import { readFile } from 'node:fs/promises';
import type { Finding } from './types.js';

/** Returns fs.inotify.max_user_watches, or undefined where there is no inotify (not Linux). */
export type WatchLimitReader = () => Promise<number | undefined>;

export const readMaxUserWatches: WatchLimitReader = async () => {
  try {
    const value = Number.parseInt(await readFile('/proc/sys/fs/inotify/max_user_watches', 'utf8'), 10);
    return Number.isFinite(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
};

const COMMON_LIMIT = 524_288;

/**
 * The limit is per user, shared with editors, language servers and every other watcher, so half
 * of it taken by one project is already worth a word; more than all of it means watches fail.
 */
export async function checkWatchLimit(
  dirCount: number,
  readLimit: WatchLimitReader = readMaxUserWatches,
): Promise<Finding[]> {
  const limit = await readLimit();
  if (limit === undefined || dirCount <= limit / 2) return [];
  const percent = Math.round((dirCount / limit) * 1000) / 10;
  // Leave the same headroom the threshold asks for: the project should fit in half the limit.
  const suggested = Math.max(COMMON_LIMIT, 2 ** Math.ceil(Math.log2(dirCount * 2)));
  const over = dirCount > limit;
  return [
    {
      check: 'watch-limit',
      severity: over ? 'hazard' : 'info',
      evidence:
        `${dirCount} directories to watch, one inotify watch each, against fs.inotify.max_user_watches=${limit} (${percent}%), a limit shared by every process of this user` +
        (over
          ? ': watching fails part-way, and changes in the unwatched directories go unseen'
          : ': editors and other watchers may run out'),
      fix: `sudo sysctl fs.inotify.max_user_watches=${suggested}; to keep it after a reboot: echo fs.inotify.max_user_watches=${suggested} | sudo tee /etc/sysctl.d/60-devsup-inotify.conf && sudo sysctl --system`,
    },
  ];
}
