import { basename, dirname, isAbsolute } from 'node:path';
import type { AsyncSubscription, Event as ParcelEvent } from '@parcel/watcher';
import { look } from './look.js';
import { NativeIgnore } from './native-ignore.js';
import { started, type OpenTarget, type TargetHandle, type TargetSink } from './supervise.js';
import { isDirectory, isInside, onlyNamesPattern, pathMap, type PathMap, type Target } from './targets.js';
import type { PathFilter, WatchEvent } from './types.js';
import { walkTree } from './walk.js';

export type ParcelApi = Pick<typeof import('@parcel/watcher'), 'subscribe'>;

/**
 * How long freshly created directories may keep arriving before they are checked. Parcel adds a
 * watch to a new directory only when it hears of it, so whatever was created inside before that
 * (mkdir -p, a tree moved in, a checkout) is found here instead.
 */
const SWEEP_MS = 50;
/** Deleted directories remembered, so repeated reports of one deletion stay 'unlinkDir'. */
const MAX_GONE = 10_000;

const noop = (): void => undefined;
type Ignore = (string | RegExp)[];

export function parcelOpener(parcel: ParcelApi, filter: PathFilter): OpenTarget {
  return (target, sink) => started(new ParcelTarget(parcel, filter, target, sink));
}

class ParcelTarget implements TargetHandle {
  /** The target's own subscription, plus one per directory parcel failed to watch by itself. */
  private readonly subs = new Map<string, AsyncSubscription>();
  /** Directories known to exist, so a deletion (which parcel does not type) can be told apart. */
  private readonly knownDirs = new Set<string>();
  private readonly goneDirs = new Set<string>();
  private readonly fresh = new Set<string>();
  private readonly native: NativeIgnore;
  private readonly rootNames: string[];
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Batches and sweeps run one at a time, in arrival order. */
  private work: Promise<void> = Promise.resolve();
  private closed = false;
  private map: PathMap | undefined;
  private readonly dropping = new Set<Promise<void>>();

  constructor(
    private readonly parcel: ParcelApi,
    private readonly filter: PathFilter,
    private readonly target: Target,
    private readonly sink: TargetSink,
  ) {
    this.rootNames = [...target.files].map((f) => f.slice(target.dir.length + 1));
    this.native = new NativeIgnore(filter.ignoreGlobs ?? [], this.rootNames);
  }

  async start(): Promise<void> {
    const { dir, whole, files } = this.target;
    this.map = await pathMap(dir);
    if (!whole) return this.subscribe(dir, [onlyNamesPattern(files)]);
    // Globs keep out ignored directories that appear later; the walk adds those only a .gitignore
    // names, which parcel could not match itself.
    const rel = (p: string) => p.slice(dir.length + 1);
    const keep = [...this.rootNames];
    const skipped: string[] = [];
    await walkTree([dir], this.filter, noop, {
      onDir: (d) => this.knownDirs.add(d),
      onSkippedDir: (d) => skipped.push(d),
      onFile: (f) => keep.push(rel(f)),
      wantFile: (name) => this.native.clashes(name),
    });
    await this.subscribe(dir, [...this.native.patterns(keep), ...skipped.filter((d) => !this.native.covers(rel(d)))]);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.sweepTimer);
    await this.work;
    const subs = [...this.subs.values()];
    this.subs.clear();
    await Promise.all([...subs.map((s) => s.unsubscribe().catch(noop)), ...this.dropping]);
  }

  /** `dir` and absolute ignores are named as the user sees them; parcel gets real paths. */
  private async subscribe(dir: string, ignore: Ignore): Promise<void> {
    const map = this.map!;
    const opts = { ignore: ignore.map((i) => (typeof i === 'string' && isAbsolute(i) ? map.toReal(i) : i)) };
    const sub = await this.parcel.subscribe(map.toReal(dir), (err, events) => this.onBatch(dir, err, events), opts);
    if (this.closed) return sub.unsubscribe().catch(noop);
    this.subs.set(dir, sub);
  }

  private onBatch(dir: string, err: Error | null, events: ParcelEvent[]): void {
    if (this.closed) return;
    // Parcel drops a subscription after reporting an error on it: start the target afresh.
    if (err) return this.sink.failed(err);
    this.run(() => this.process(dir, events));
  }

  private run(step: () => Promise<void>): void {
    this.work = this.work.then(step).catch((e: unknown) => this.sink.error(e));
  }

  private async process(subDir: string, events: ParcelEvent[]): Promise<void> {
    const paths = events.map((e) => this.map!.toUser(e.path));
    const looks = await Promise.all(events.map((e, i) => (e.type === 'delete' ? undefined : look(paths[i]!))));
    if (this.closed) return;
    const out: WatchEvent[] = [];
    let vanished = false;
    events.forEach((e, i) => {
      const p = paths[i]!;
      if (p === this.target.dir) vanished ||= e.type === 'delete';
      else if (e.type === 'delete') {
        if (p === subDir) this.dropExtra(p);
        this.deleted(p, out);
      } else if (looks[i]?.kind === 'dir') this.dirAppeared(p, e.type === 'create', out);
      else if (looks[i]?.kind !== 'other' && this.filter.includeFile(p)) {
        const { kind, at } = looks[i]!;
        out.push({ kind: kind === 'gone' ? 'unlink' : e.type === 'create' ? 'add' : 'change', path: p, at });
      }
    });
    this.sink.emit(out);
    if (vanished) this.sink.vanished();
  }

  private deleted(p: string, out: WatchEvent[]): void {
    if (this.knownDirs.has(p) || this.goneDirs.has(p)) {
      // What was below goes too: a tree put back in its place must be looked at afresh.
      if (this.goneDirs.size >= MAX_GONE) this.goneDirs.clear();
      for (const d of [...this.knownDirs].filter((k) => k === p || isInside(k, p))) {
        this.knownDirs.delete(d);
        this.goneDirs.add(d);
      }
      this.goneDirs.add(p);
      out.push({ kind: 'unlinkDir', path: p });
    } else if (this.filter.includeFile(p)) {
      out.push({ kind: 'unlink', path: p });
    }
  }

  private dirAppeared(p: string, created: boolean, out: WatchEvent[]): void {
    if (!this.target.whole || this.filter.skipDir(p)) return;
    if (!created && this.knownDirs.has(p)) return;
    this.knownDirs.add(p);
    this.goneDirs.delete(p);
    out.push({ kind: 'addDir', path: p });
    this.fresh.add(p);
    clearTimeout(this.sweepTimer);
    this.sweepTimer = setTimeout(() => this.run(() => this.sweep()), SWEEP_MS);
  }

  /** Reports what new directories already hold, and watches directories inside that parcel missed. */
  private async sweep(): Promise<void> {
    const dirs = [...this.fresh];
    this.fresh.clear();
    const out: WatchEvent[] = [];
    const missed = new Set<string>();
    const skipped: string[] = [];
    const clashing: string[] = [];
    await walkTree(dirs, this.filter, noop, {
      onDir: (d) => {
        if (!this.knownDirs.has(d)) missed.add(d);
        this.knownDirs.add(d);
        this.goneDirs.delete(d);
      },
      onFile: (f) => {
        out.push({ kind: 'add', path: f });
        if (this.native.clashes(basename(f))) clashing.push(f);
      },
      onSkippedDir: (d) => skipped.push(d),
    });
    if (this.closed) return;
    const tops = [...missed].filter((d) => !missed.has(dirname(d)));
    this.sink.emit([...[...missed].map((d): WatchEvent => ({ kind: 'addDir', path: d })), ...out]);
    // A subscription of its own watches each missed directory and everything below it.
    for (const top of tops) {
      const keep = clashing.filter((f) => isInside(f, top)).map((f) => f.slice(top.length + 1));
      const ignore = [...this.native.patterns(keep, false), ...skipped.filter((d) => isInside(d, top))];
      await this.subscribe(top, ignore).catch(async (e: unknown) => {
        // Gone again already: its deletion is reported through the parent's watch.
        if (!this.closed && (await isDirectory(top))) this.sink.error(e);
      });
    }
    // Whatever was written in those directories before they were watched gets a trigger now.
    if (!this.closed) this.sink.emit(tops.map((d) => ({ kind: 'addDir', path: d })));
  }

  private dropExtra(dir: string): void {
    const sub = this.subs.get(dir);
    if (!sub || dir === this.target.dir) return;
    this.subs.delete(dir);
    const done = sub.unsubscribe().catch(noop);
    this.dropping.add(done);
    void done.finally(() => this.dropping.delete(done));
  }
}
