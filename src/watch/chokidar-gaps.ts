import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { FSWatcher } from 'chokidar';
import type { TargetSink } from './supervise.js';
import { dirIdentity, type PathMap, type Target } from './targets.js';
import type { PathFilter, WatchEvent } from './types.js';
import { walkTree } from './walk.js';

/**
 * chokidar drops (does not delay) a second 'change' of a path within 50 ms of the first, which
 * loses an editor's rename-over save right after a write. A look after that window catches it.
 */
const RECHECK_MS = 75;
/** How often an otherwise quiet root is checked for having been replaced. */
const ROOT_CHECK_MS = 1000;

/**
 * Polling compares each path with a first stat taken just after chokidar listed its directory, so
 * an entry created in between is baked into that first stat and never reported, nor polled. Once
 * those first stats are surely taken, whatever chokidar does not know is handed to it and reported.
 */
export async function adoptUnseen(
  w: FSWatcher,
  target: Target,
  filter: PathFilter,
  map: PathMap,
  sink: TargetSink,
  recheck: Recheck,
): Promise<void> {
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
  // Their first polling stat is again taken later; a write in between is caught by a second look.
  for (const e of unseen) if (e.kind === 'add') recheck.after(e.path, undefined);
}

/**
 * Polling's first stats go through libuv's thread pool, which serves requests in order: once stats
 * queued after them are done, those first stats have been taken (at worst still in flight), so a
 * change made after this is compared against them rather than baked into them.
 */
export async function drainThreadPool(dir: string): Promise<void> {
  for (let round = 0; round < 2; round++) {
    await Promise.all(Array.from({ length: 8 }, () => stat(dir).catch(() => undefined)));
  }
}

/**
 * chokidar's inotify watch stays on a deleted root's inode, so a root deleted and recreated at once
 * is never watched again, and chokidar does not say so. Deletions below the root, and a slow
 * timer, look at whether the root is still the same directory (a recreated one often gets the
 * same inode number back, hence the birth time too).
 */
export class ReplacedCheck {
  private readonly timer: NodeJS.Timeout;
  private readonly id: string;
  private checking = false;
  private done = false;

  constructor(
    private readonly dir: string,
    original: Stats,
    private readonly sink: TargetSink,
  ) {
    this.id = dirIdentity(original);
    this.timer = setInterval(() => this.check(), ROOT_CHECK_MS);
  }

  /** Cheap to call often (one deletion event each): at most one look is under way. */
  check(): void {
    if (this.checking || this.done) return;
    this.checking = true;
    void stat(this.dir)
      .catch(() => undefined)
      .then((st) => {
        this.checking = false;
        if (!st || dirIdentity(st) !== this.id) this.gone();
      });
  }

  gone(): void {
    if (this.done) return;
    this.close();
    this.sink.vanished();
  }

  close(): void {
    this.done = true;
    clearInterval(this.timer);
  }
}

/** Reports a 'change' for a file that differs, shortly after an event, from what the event saw. */
export class Recheck {
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
