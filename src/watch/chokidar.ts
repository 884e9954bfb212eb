import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { watch, type FSWatcher, type Throttler } from 'chokidar';
import { adoptUnseen, drainThreadPool, Recheck, ReplacedCheck } from './chokidar-gaps.js';
import type { OpenTarget } from './supervise.js';
import { isDirectory, isInside, pathMap, type Target } from './targets.js';
import type { PathFilter, WatchEvent, WatchEventKind } from './types.js';

export interface ChokidarSettings {
  poll: boolean;
  intervalMs: number;
}

const KINDS: ReadonlySet<string> = new Set<WatchEventKind>(['add', 'change', 'unlink', 'addDir', 'unlinkDir']);

export function chokidarOpener(filter: PathFilter, settings: ChokidarSettings): OpenTarget {
  return async (target, sink) => {
    const map = await pathMap(target.dir);
    const rootStat = await stat(map.real).catch(() => undefined);
    if (!rootStat?.isDirectory()) throw missing(target.dir);
    const ignored = ignoredFor(target, filter);
    const w = watch(map.real, {
      ignoreInitial: true,
      // Settling happens downstream; chokidar's own delays would only add latency.
      atomic: false,
      followSymlinks: false,
      usePolling: settings.poll,
      interval: settings.intervalMs,
      binaryInterval: settings.intervalMs,
      // Unreadable directories are reported once by the walk that lists files.
      ignorePermissionErrors: true,
      ...(target.whole ? {} : { depth: 0 }),
      ignored: (p: string, stats?: Stats) => ignored(map.toUser(p), stats),
    });
    const recheck = new Recheck((path) => sink.emit([{ kind: 'change', path }]));
    const replaced = settings.poll ? undefined : new ReplacedCheck(map.real, rootStat, sink);
    let reconcile: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve) => w.once('ready', () => resolve()));
    w.on('error', (err) => sink.error(err));
    // inotify's word that the watched root itself changed: deleted or moved, or only its mode or
    // times (node calls those a rename too, on a directory), so the root is looked at.
    w.on('raw', (event, name, details) => {
      const watched = (details as { watchedPath?: string } | undefined)?.watchedPath;
      if (event === 'rename' && name === basename(map.real) && watched === map.real) replaced?.check();
    });
    w.on('all', (kind, realPath, stats) => {
      if (!KINDS.has(kind)) return;
      const path = map.toUser(realPath);
      if (path === target.dir) {
        if (kind === 'unlinkDir') sink.vanished();
        return;
      }
      if (kind === 'unlink' || kind === 'unlinkDir') replaced?.check();
      const isDirEvent = kind === 'addDir' || kind === 'unlinkDir';
      if (isDirEvent ? !target.whole : !filter.includeFile(path)) return;
      sink.emit([{ kind, path } as WatchEvent]);
      if (kind === 'add' || kind === 'change') recheck.after(path, stats);
    });
    const close = async () => {
      clearTimeout(reconcile);
      replaced?.close();
      recheck.close();
      await closeQuietly(w);
    };
    await ready;
    // chokidar quietly watches the parent of a path that is gone; the supervisor must wait instead.
    if (!(await isDirectory(target.dir))) {
      await close();
      throw missing(target.dir);
    }
    if (settings.poll) {
      await drainThreadPool(map.real);
      const delay = Math.max(100, 2 * settings.intervalMs);
      const adopt = () => adoptUnseen(w, target, filter, map, sink, recheck);
      reconcile = setTimeout(() => void adopt().catch((e: unknown) => sink.error(e)), delay);
    }
    return { close };
  };
}

/**
 * chokidar asks twice per entry, first without stats. Without them, only what is out either way
 * (a directory that is skipped and that would not count as a file) can be dropped early.
 */
function ignoredFor(target: Target, filter: PathFilter): (path: string, stats?: Stats) => boolean {
  const { dir, files } = target;
  if (!target.whole) return (p) => p !== dir && !files.has(p);
  return (p, stats) => {
    if (p === dir || !isInside(p, dir) || files.has(p)) return false;
    if (!stats) return filter.skipDir(p) && !filter.includeFile(p);
    return stats.isDirectory() ? filter.skipDir(p) : !filter.includeFile(p);
  };
}

function missing(dir: string): Error {
  return Object.assign(new Error(`${dir} does not exist or is not a directory`), { code: 'ENOENT' });
}

async function closeQuietly(w: FSWatcher): Promise<void> {
  w.removeAllListeners();
  // A late error from a watcher being torn down must not become an unhandled 'error' event.
  w.on('error', () => undefined);
  // chokidar 5 forgets its throttle timers on close without cancelling them (up to 1 s for a
  // directory re-read), which would keep the process alive that long.
  for (const byPath of w._throttled.values()) {
    for (const t of byPath.values()) (t as Throttler).clear();
  }
  await w.close();
}
