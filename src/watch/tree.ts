import { createFilter } from './filter.js';
import { Settler } from './settle.js';
import { loadIndex, saveIndex } from './index-file.js';
import { Snapshotter, diffSnapshots, isEmptyChange, type Snapshot } from './snapshot.js';
import type { ChangeSet } from '../core/events.js';
import type { PathFilter, Watcher } from './types.js';
import { treeSource, type TreeSource } from './walk.js';
import { createWatcher, usesInotify } from './watcher.js';

export interface TreeOptions {
  roots: string[];
  ignore: string[];
  ext?: string[];
  settleMs: number;
  poll?: boolean;
  backend?: 'auto' | 'inotify' | 'parcel' | 'chokidar';
  onWarning(message: string): void;
  /** A settled burst whose content really differs from the previous snapshot. */
  onChange(snapshot: Snapshot, changes: ChangeSet): void;
  /** Where the file states are saved between runs (see index-file.ts); nothing is saved without it. */
  indexFile?: string;
}

/** The first snapshot's states are saved this long after it, once the first child is under way. */
const SAVE_DELAY_MS = 1000;
/** The index is saved again once more than one file in this many had to be read. */
const SAVE_WORTH = 16;

/**
 * One watched source tree: backend events feed the settler, a settled burst triggers a new content
 * snapshot, and only a real content difference is reported. The latest snapshot is the truth that
 * every freshness verdict is computed against.
 */
export class WatchedTree {
  private watcher: Watcher | undefined;
  private readonly settler: Settler;
  private readonly snapshotter: Snapshotter;
  private readonly filter: PathFilter;
  private readonly source: TreeSource;
  private latestSnap: Snapshot | undefined;
  private snapping: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private readonly base: string;

  constructor(private readonly opts: TreeOptions) {
    this.filter = createFilter({ roots: opts.roots, ignore: opts.ignore, ext: opts.ext, gitignore: true });
    // Every snapshot walks the tree again; an unreadable directory is worth one warning, not one per walk.
    const warned = new Set<string>();
    const warnOnce = (msg: string): void => {
      if (warned.has(msg)) return;
      warned.add(msg);
      opts.onWarning(msg);
    };
    this.source = treeSource(opts.roots, this.filter, warnOnce);
    this.base = opts.roots[0] ?? '/';
    this.snapshotter = new Snapshotter(this.source, this.base);
    this.settler = new Settler({ quietMs: opts.settleMs, onSettled: (paths) => void this.queueSnapshot(paths) });
  }

  get roots(): string[] {
    return this.opts.roots;
  }

  get backend(): string {
    return this.watcher?.backend ?? 'none';
  }

  get fallbackReason(): string | undefined {
    return this.watcher?.fallbackReason;
  }

  /**
   * Watches, then snapshots, so nothing written in between is missed. The inotify backend lists the
   * files as it adds its watches, each directory watched before it is read. With the others,
   * listing the tree and loading the saved states overlap the watcher's start (parcel's is mostly
   * a native scan on another thread); once watching, every directory whose entries changed
   * meanwhile is listed again and every file is looked at, so the overlap loses nothing. `poll`
   * forces polling where the filesystem is known not to deliver change events.
   */
  async start(poll = false): Promise<Snapshot> {
    const polling = this.opts.poll || poll;
    const backend = this.opts.backend ?? 'auto';
    // The inotify backend lists as it watches, leaving nothing to overlap: its listing is used instead.
    const lists = usesInotify({ backend, poll: polling });
    const early = lists ? undefined : this.source.listEarly();
    const saved = this.opts.indexFile ? loadIndex(this.opts.indexFile, this.base) : Promise.resolve(undefined);
    try {
      this.watcher = await createWatcher({
        roots: this.opts.roots,
        filter: this.filter,
        backend,
        poll: polling,
        listFiles: lists,
        onWarning: this.opts.onWarning,
        onEvents: (events, lastAt) => this.settler.push(events.map((e) => e.path), lastAt),
      });
    } catch (err) {
      await Promise.allSettled([early, saved]);
      throw err;
    }
    const states = await saved;
    if (states) this.snapshotter.seed(states);
    const files = early ? await (await early).confirm() : this.watcher.listed;
    this.latestSnap = await this.snapshotter.take(files);
    // Saving costs about a fifteenth of reading the same files: a few files read again are not worth it.
    if (!states ? this.latestSnap.files.size > 0 : this.snapshotter.lastReads * SAVE_WORTH > this.latestSnap.files.size) this.saveLater();
    return this.latestSnap;
  }

  private saveLater(): void {
    const file = this.opts.indexFile;
    if (!file) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      const snap = this.latestSnap!;
      this.saving = saveIndex(file, this.base, snap.files, (p) => this.snapshotter.rel(p)).catch((err: unknown) =>
        this.opts.onWarning(`could not save the file index ${file}: ${(err as Error).message}`),
      );
    }, SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  get latest(): Snapshot {
    if (!this.latestSnap) throw new Error('tree not started');
    return this.latestSnap;
  }

  /**
   * Settles whatever is pending now, then looks at every file (an edit whose event has not arrived
   * yet is still seen), and resolves once that snapshot is the latest.
   */
  async barrier(): Promise<Snapshot> {
    this.settler.flush();
    await this.queueSnapshot();
    return this.latest;
  }

  hold(): void {
    this.settler.hold();
  }

  release(): void {
    this.settler.release();
  }

  async close(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.settler.close();
    await this.watcher?.close();
    await this.snapping.catch(() => undefined);
    await this.saving;
  }

  /**
   * Snapshots run one after another, so `latest` only moves forward. Settled paths are looked at
   * alone; without paths every file is.
   */
  private queueSnapshot(paths?: string[]): Promise<void> {
    this.snapping = this.snapping.then(async () => {
      const before = this.latestSnap;
      const snap = paths && before ? await this.snapshotter.update(paths) : await this.snapshotter.take();
      this.latestSnap = snap;
      if (!before) return;
      const changes = diffSnapshots(before, snap);
      if (!isEmptyChange(changes)) this.opts.onChange(snap, changes);
    }).catch((err: unknown) => this.opts.onWarning(`snapshot failed: ${(err as Error).message}`));
    return this.snapping;
  }
}
