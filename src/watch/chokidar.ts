import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { watch, type FSWatcher, type Throttler } from 'chokidar';
import { join } from 'node:path';
import type { OpenTarget, TargetSink } from './supervise.js';
import { isDirectory, isInside, pathMap, type PathMap, type Target } from './targets.js';
import { walkTree } from './walk.js';
import type { PathFilter, WatchEvent, WatchEventKind } from './types.js';

export interface ChokidarSettings {
  poll: boolean;
  intervalMs: number;
}

const KINDS: ReadonlySet<string> = new Set<WatchEventKind>(['add', 'change', 'unlink', 'addDir', 'unlinkDir']);

/**
 * chokidar drops (does not delay) a second 'change' of a path within 50 ms of the first, which
 * loses an editor's rename-over save right after a write. A look after that window catches it.
 */
const RECHECK_MS = 75;

export function chokidarOpener(filter: PathFilter, settings: ChokidarSettings): OpenTarget {
  return async (target, sink) => {
    const map = await pathMap(target.dir);
    if (!(await isDirectory(map.real))) throw missing(target.dir);
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
    let reconcile: NodeJS.Timeout | undefined;
    const ready = new Promise<void>((resolve) => w.once('ready', () => resolve()));
    w.on('error', (err) => sink.error(err));
    w.on('all', (kind, realPath, stats) => {
      if (!KINDS.has(kind)) return;
      const path = map.toUser(realPath);
      if (path === target.dir) {
        if (kind === 'unlinkDir') sink.vanished();
        return;
      }
      const isDirEvent = kind === 'addDir' || kind === 'unlinkDir';
      if (isDirEvent ? !target.whole : !filter.includeFile(path)) return;
      sink.emit([{ kind, path } as WatchEvent]);
      if (kind === 'add' || kind === 'change') recheck.after(path, stats);
    });
    const close = async () => {
      clearTimeout(reconcile);
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
      const delay = Math.max(100, 2 * settings.intervalMs);
      reconcile = setTimeout(() => void adoptUnseen(w, target, filter, map, sink).catch((e) => sink.error(e)), delay);
    }
    return { close };
  };
}

/**
 * Polling compares each path with a first stat taken just after chokidar listed its directory, so
 * an entry created in between is baked into that first stat and never reported, nor polled. Once
 * those first stats are surely taken, whatever chokidar does not know is handed to it and reported.
 */
async function adoptUnseen(w: FSWatcher, target: Target, filter: PathFilter, map: PathMap, sink: TargetSink) {
  const known = new Set<string>();
  for (const [dir, names] of Object.entries(w.getWatched())) {
    known.add(dir);
    for (const n of names) known.add(join(dir, n));
  }
  const unseen: WatchEvent[] = [];
  const visit = (kind: 'add' | 'addDir') => (p: string) => {
    if (p !== target.dir && !known.has(map.toReal(p))) unseen.push({ kind, path: p });
  };
  const roots = target.whole ? [target.dir] : [...target.files];
  await walkTree(roots, filter, () => undefined, { onDir: visit('addDir'), onFile: visit('add') });
  if (w.closed || unseen.length === 0) return;
  w.add(unseen.map((e) => map.toReal(e.path)));
  sink.emit(unseen);
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

/** Reports a 'change' for a file that differs, shortly after an event, from what the event saw. */
class Recheck {
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly changed: (path: string) => void) {}

  after(path: string, seen: Stats | undefined): void {
    if (this.closed || this.pending.has(path)) return;
    const before = seen ? Promise.resolve(seen) : stat(path).catch(() => undefined);
    const timer = setTimeout(() => {
      this.pending.delete(path);
      void Promise.all([before, stat(path).catch(() => undefined)]).then(([a, b]) => {
        if (!this.closed && b && (!a || key(a) !== key(b))) this.changed(path);
      });
    }, RECHECK_MS);
    this.pending.set(path, timer);
  }

  close(): void {
    this.closed = true;
    for (const timer of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
  }
}

function key(s: Stats): string {
  return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
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
