import { createFilter } from './filter.js';
import { Settler } from './settle.js';
import { Snapshotter, diffSnapshots, isEmptyChange, type Snapshot } from './snapshot.js';
import type { ChangeSet } from '../core/events.js';
import type { PathFilter, Watcher } from './types.js';
import { treeSource } from './walk.js';
import { createWatcher } from './watcher.js';

export interface TreeOptions {
  roots: string[];
  ignore: string[];
  ext?: string[];
  settleMs: number;
  poll?: boolean;
  backend?: 'auto' | 'parcel' | 'chokidar';
  onWarning(message: string): void;
  /** A settled burst whose content really differs from the previous snapshot. */
  onChange(snapshot: Snapshot, changes: ChangeSet): void;
}

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
  private latestSnap: Snapshot | undefined;
  private snapping: Promise<void> = Promise.resolve();

  constructor(private readonly opts: TreeOptions) {
    this.filter = createFilter({ roots: opts.roots, ignore: opts.ignore, ext: opts.ext, gitignore: true });
    // Every snapshot walks the tree again; an unreadable directory is worth one warning, not one per walk.
    const warned = new Set<string>();
    const warnOnce = (msg: string): void => {
      if (warned.has(msg)) return;
      warned.add(msg);
      opts.onWarning(msg);
    };
    this.snapshotter = new Snapshotter(treeSource(opts.roots, this.filter, warnOnce), opts.roots[0] ?? '/');
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
   * Starts watching first, then snapshots, so nothing written in between is missed. `poll` forces
   * polling where the filesystem is known not to deliver change events.
   */
  async start(poll = false): Promise<Snapshot> {
    this.watcher = await createWatcher({
      roots: this.opts.roots,
      filter: this.filter,
      backend: this.opts.backend ?? 'auto',
      poll: this.opts.poll || poll,
      onWarning: this.opts.onWarning,
      onEvents: (events, lastAt) => this.settler.push(events.map((e) => e.path), lastAt),
    });
    this.latestSnap = await this.snapshotter.take();
    return this.latestSnap;
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
    this.settler.close();
    await this.watcher?.close();
    await this.snapping.catch(() => undefined);
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
