import { statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { atLeastFiles, dirsChangedSince, entryNames, suspectPaths } from './first-look.js';
import { Settler } from './settle.js';
import { loadIndex, readSummary, saveIndex } from './index-file.js';
import { Snapshotter, diffSnapshots, isEmptyChange, type FileSource, type Snapshot } from './snapshot.js';
import type { ChangeSet } from '../core/events.js';
import type { PathFilter, Watcher } from './types.js';
import { treeSource, type TreeSource } from './walk.js';

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
  /** Absolute paths never watched, whatever the filter says (devsup's own output file, see own-output.ts). */
  leaveOut?: string[];
  /** Awaited once watching has begun, before the first look reads anything (tests widen that look with it). */
  beforeFirstLook?(): Promise<void>;
}

/** The first snapshot's states are saved this long after it, once the first child is under way. */
const SAVE_DELAY_MS = 1000;
/** After an edit the index is saved once the tree has been quiet this long. */
const SAVE_AFTER_CHANGE_MS = 5000;
/**
 * A tree with fewer saved files than this is looked at before anything starts: its first snapshot
 * takes milliseconds, so an early start would gain nothing and could cost a needless restart.
 */
export const EARLY_START_MIN_FILES = 2000;
/** The index is saved again once more than one file in this many had to be read. */
const SAVE_WORTH = 16;
/**
 * On a small tree, a settled change is looked at for its own paths first, and the restart goes on
 * from that; the look at every file, which finds writes whose events are late or lost, comes this
 * long after it. Run at once, it kept the main thread busy while the old child exited (its exit
 * was heard milliseconds late) and the new child waited for it. Where events can trail the writes
 * by a poll (the chokidar backend), it still runs at once and the restart waits for it.
 */
export const WHOLE_LOOK_DELAY_MS = 250;

/**
 * One watched source tree: backend events feed the settler, a settled burst triggers a new content
 * snapshot, and only a real content difference is reported. The latest snapshot is the truth that
 * every freshness verdict is computed against.
 */
export class WatchedTree {
  private watcher: Watcher | undefined;
  private readonly settler: Settler;
  private readonly snapshotter: Snapshotter;
  private filter: PathFilter | undefined;
  /** The filter the .gitignore rules live in (see onSettled). */
  private rules: { rulesChanged(): void } | undefined;
  private source: TreeSource | undefined;
  private latestSnap: Snapshot | undefined;
  private snapping: Promise<void> = Promise.resolve();
  /** The snapshots of settled changes (not the first look), for settled(). */
  private changing: Promise<void> = Promise.resolve();
  /** Whole looks queued after settled changes on a small tree: only the last one queued runs. */
  private wholeLooks = 0;
  /** The whole look put off after a settled change (see WHOLE_LOOK_DELAY_MS). */
  private wholeLookTimer: NodeJS.Timeout | undefined;
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  /** The latest snapshot has content the saved index does not have yet. */
  private unsaved = false;
  private closed = false;
  /** Snapshots queued and not finished yet; with the settler's pending paths, what `settling` tells. */
  private looking = 0;
  private readonly settledWaiters: Array<() => void> = [];
  /** Files left out after the tree started (a child writing into its own tree). */
  private readonly excluded = new Set<string>();
  /** Polling because the filesystem was found unreliable, not because the options asked for it. */
  private pollForced = false;
  private readonly base: string;
  /**
   * The project directory the index is kept in, as it was when the tree was made: a directory
   * made at the same path after the project moved is another one, and nothing is saved there.
   */
  private readonly project: { path: string; dev: number; ino: number } | undefined;
  /** When a start made before any file was read began; see early(). */
  private startedBefore: number | undefined;
  /**
   * The entries of each root directory just before such a start: devsup itself makes `.devsup` in
   * a fresh checkout at about that moment, which must not count as a change the child could see.
   */
  private rootEntries: Map<string, Set<string> | undefined> | undefined;
  /** Paths the watcher reported while the first look of such a start was under way. */
  private heardDuringLook: string[] | undefined;
  /** Settles with the first snapshot taken from the files themselves. */
  private readonly first: { promise: Promise<Snapshot>; resolve(s: Snapshot): void; reject(e: unknown): void };

  constructor(private readonly opts: TreeOptions) {
    this.first = deferred<Snapshot>();
    // A rejection nobody waits for (a tree closed before it started) is not an error of its own.
    this.first.promise.catch(() => undefined);
    this.base = opts.roots[0] ?? '/';
    this.project = opts.indexFile ? identityOf(dirname(dirname(dirname(opts.indexFile)))) : undefined;
    // The files are listed only once start() has loaded the filter; nothing snapshots before that.
    const loaded = (): TreeSource => {
      if (!this.source) throw new Error('tree not started');
      return this.source;
    };
    const source: FileSource = { list: (dirs) => loaded().list(dirs), counts: (p) => loaded().counts(p) };
    this.snapshotter = new Snapshotter(source, this.base);
    this.settler = new Settler({ quietMs: opts.settleMs, onSettled: (paths) => void this.onSettled(paths) });
  }

  get roots(): string[] {
    return this.opts.roots;
  }

  get backend(): string {
    return this.watcher?.backend ?? 'none';
  }

  /** Why the tree is not watched the way its options asked, polling included; undefined when it is. */
  get fallbackReason(): string | undefined {
    const own = this.watcher?.fallbackReason;
    const forced = this.pollForced ? 'change events are unreliable on this filesystem; polling' : undefined;
    return [forced, own].filter(Boolean).join('; ') || undefined;
  }

  /**
   * The tree as the previous run saved it, before any file is looked at, when that index covers
   * every file and the tree is big enough for its first look to take a while: a worker may start
   * on it at once. `start()` then compares the files with it, and a difference is reported as a
   * change, so whatever started on it is stale and restarted like after an edit.
   */
  early(): Snapshot | undefined {
    if (!this.opts.indexFile || this.latestSnap) return undefined;
    const summary = readSummary(this.opts.indexFile, this.base);
    if (summary) {
      if (summary.files < EARLY_START_MIN_FILES) return undefined;
      this.latestSnap = this.snapshotter.provisional(summary.codeId);
      return this.latestSnap;
    }
    // No index to start on (a fresh checkout, or one that cannot vouch for the tree): a big tree
    // still starts at once, and its first look tells whether anything changed after this moment.
    if (!atLeastFiles(this.opts.roots, EARLY_START_MIN_FILES)) return undefined;
    this.startedBefore = Date.now();
    this.rootEntries = new Map(this.opts.roots.map((r) => [r, entryNames(r)]));
    this.latestSnap = this.snapshotter.unknownStart();
    return this.latestSnap;
  }

  /** The first snapshot taken from the files themselves; rejects if the tree never gets one. */
  verified(): Promise<Snapshot> {
    return this.first.promise;
  }

  /**
   * Watches, then snapshots, so nothing written in between is missed. The inotify backend lists the
   * files as it adds its watches, each directory watched before it is read. With the others,
   * listing the tree and loading the saved states overlap the watcher's start (parcel's is mostly
   * a native scan on another thread); once watching, every directory whose entries changed
   * meanwhile is listed again and every file is looked at, so the overlap loses nothing. `poll`
   * forces polling where the filesystem is known not to deliver change events.
   */
  start(poll = false): Promise<Snapshot> {
    const first = this.firstSnapshot(poll);
    // Snapshots queued meanwhile (a barrier) wait for this one: the snapshotter takes one at a time.
    this.snapping = first.then(
      () => undefined,
      () => undefined,
    );
    first.then(this.first.resolve, this.first.reject);
    return first;
  }

  private async firstSnapshot(poll: boolean): Promise<Snapshot> {
    if (this.closed) throw new TreeClosedError();
    // Loaded here rather than with this module: an early start spawns its child before they load.
    const [{ createFilter }, { createWatcher, usesInotify }] = await Promise.all([import('./filter.js'), import('./watcher.js')]);
    const base = createFilter({ roots: this.opts.roots, ignore: this.opts.ignore, ext: this.opts.ext, gitignore: true });
    this.rules = base;
    const excluded = this.excluded;
    const leftOut = new Set(this.opts.leaveOut);
    this.filter = { ...base, includeFile: (p) => !excluded.has(p) && !leftOut.has(p) && base.includeFile(p) };
    // Every snapshot walks the tree again; an unreadable directory is worth one warning, not one per walk.
    const warned = new Set<string>();
    this.source = treeSource(this.opts.roots, this.filter, (msg) => {
      if (warned.has(msg)) return;
      warned.add(msg);
      this.opts.onWarning(msg);
    });
    const polling = this.opts.poll || poll;
    this.pollForced = poll && !this.opts.poll;
    const backend = this.opts.backend ?? 'auto';
    // The inotify backend lists as it watches, leaving nothing to overlap: its listing is used instead.
    const lists = usesInotify({ backend, poll: polling });
    const early = lists ? undefined : this.source.listEarly();
    const indexFile = this.opts.indexFile;
    const since = this.startedBefore;
    if (since !== undefined) this.heardDuringLook = [];
    // A start already running on the header's code id makes any other content of the file damage.
    // (A start made before any file was read runs on no code id: any index of ours may serve.)
    const runningOn = this.latestSnap?.provisional && !this.latestSnap.unknown ? this.latestSnap.codeId : undefined;
    const saved = indexFile
      ? loadIndex(indexFile, this.base, {
          ...(runningOn === undefined ? {} : { codeId: runningOn }),
          onDamaged: (why) => this.opts.onWarning(`the saved file index ${indexFile} is damaged (${why}); every file is read again`),
        })
      : Promise.resolve(undefined);
    try {
      this.watcher = await createWatcher({
        roots: this.opts.roots,
        filter: this.filter,
        backend,
        poll: polling,
        listFiles: lists,
        batchMs: this.opts.settleMs,
        onWarning: this.opts.onWarning,
        onEvents: (events, lastAt) => {
          const paths = events.map((e) => e.path);
          this.heardDuringLook?.push(...paths);
          this.settler.push(paths, lastAt);
        },
      });
    } catch (err) {
      await Promise.allSettled([early, saved]);
      throw err;
    }
    // Closed while the watcher started: close() may have come and gone already.
    if (this.closed) {
      await this.watcher.close();
      throw new TreeClosedError();
    }
    await this.opts.beforeFirstLook?.();
    const states = await saved;
    if (states) this.snapshotter.seed(states);
    const files = early ? await (await early).confirm() : this.watcher.listed;
    const before = this.latestSnap;
    // Every directory is watched now: one whose entries changed after the start, before its watch
    // was added, may have held a file the child read and this look cannot see (deleted, renamed).
    const movedDirs = since === undefined ? [] : await dirsChangedSince(this.opts.roots, this.filter, since, this.rootEntries);
    const check =
      since === undefined
        ? undefined
        : { since, more: () => suspectPaths(movedDirs, files ?? [], this.heardDuringLook ?? []) };
    const snap = await this.snapshotter.take(files, check).catch((err: unknown) => {
      throw this.closed ? new TreeClosedError() : err;
    });
    this.heardDuringLook = undefined;
    this.latestSnap = snap;
    if (before?.provisional) {
      const changes = diffSnapshots(before, snap);
      if (!isEmptyChange(changes)) this.opts.onChange(snap, changes);
    }
    // Saving costs about a fifteenth of reading the same files: a few files read again are not
    // worth it, unless the content differs from the saved one, which an early start relies on.
    const worth = !states ? snap.files.size > 0 : this.snapshotter.lastReads * SAVE_WORTH > snap.files.size || states.codeId !== snap.codeId;
    if (worth) this.saveLater();
    return snap;
  }

  /**
   * Saves the latest snapshot's states `delayMs` from now, unless asked again meanwhile: the index
   * follows the tree's edits, so the next start finds it current and can start early.
   */
  private saveLater(delayMs = SAVE_DELAY_MS): void {
    if (!this.opts.indexFile) return;
    this.unsaved = true;
    clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow();
    }, delayMs);
    this.saveTimer.unref();
  }

  private saveNow(): Promise<void> {
    const file = this.opts.indexFile;
    const snap = this.latestSnap;
    if (!file || !snap || snap.provisional || !this.unsaved) return this.saving;
    this.unsaved = false;
    const now = this.project && identityOf(this.project.path);
    if (this.project && (now?.dev !== this.project.dev || now.ino !== this.project.ino)) return this.saving;
    this.saving = this.saving
      .then(() => saveIndex(file, this.base, snap.files, (p) => this.snapshotter.rel(p)))
      .catch((err: unknown) => this.opts.onWarning(`could not save the file index ${file}: ${(err as Error).message}`));
    return this.saving;
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
    await this.first.promise;
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

  get isClosed(): boolean {
    return this.closed;
  }

  /** What exclude() left out, as absolute paths (not `leaveOut`, which was never in). */
  get excludedPaths(): string[] {
    return [...this.excluded];
  }

  /**
   * Leaves these absolute paths out from now on, as an ignore pattern would have. The snapshot
   * that follows no longer has them, which is reported as a change like any other.
   */
  exclude(paths: string[]): Promise<void> {
    const added = paths.filter((p) => !this.excluded.has(p));
    for (const p of added) this.excluded.add(p);
    return added.length > 0 && !this.closed ? this.queueSnapshot(added) : Promise.resolve();
  }

  /**
   * Stops watching (a first look under way ends where it is: on a big tree it could take seconds);
   * content seen since the last save is saved.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.snapshotter.stop();
    this.first.reject(new TreeClosedError());
    clearTimeout(this.saveTimer);
    clearTimeout(this.wholeLookTimer);
    this.settler.close();
    for (const resolve of this.settledWaiters.splice(0)) resolve();
    await this.snapping.catch(() => undefined);
    await this.watcher?.close();
    await this.saveNow();
  }

  /** Changes heard of that are still settling, or being looked at. */
  get settling(): boolean {
    return this.settler.hasPending || this.looking > 0;
  }

  /** Resolves once nothing heard of is settling or being looked at any more (at once if nothing is). */
  whenSettled(): Promise<void> {
    if (!this.settling || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  /**
   * Resolves once the snapshots of settled changes queued so far are taken: a start waits for it,
   * so the child starts on everything they found. The first look is not waited for, nor a look at
   * the whole tree put off after a change (see WHOLE_LOOK_DELAY_MS).
   */
  settled(): Promise<void> {
    return this.changing;
  }

  /**
   * A .gitignore edit changes which files count anywhere below it: its rules are read again and the
   * whole tree is looked at, so files it now leaves out are dropped and those it lets in are read.
   * (A directory it lets back in is listed by every look from now on, but watched only from the
   * next start of devsup: until then an edit inside it is seen by the next look, a wait-fresh's.)
   */
  private onSettled(paths: string[]): void {
    const rulesEdited = paths.some((p) => basename(p) === '.gitignore');
    if (rulesEdited) this.rules?.rulesChanged();
    void this.queueSnapshot(paths, rulesEdited);
  }

  /**
   * Snapshots run one after another, so `latest` only moves forward. Settled paths are looked at
   * alone; without paths every file is. On a small tree, where every update looks at the whole
   * tree, the settled paths are looked at first and a change among them is reported at once, so a
   * restart begins on it; the whole tree is looked at after that (see WHOLE_LOOK_DELAY_MS).
   */
  private queueSnapshot(paths?: string[], whole = false): Promise<void> {
    const first = paths !== undefined && !whole && this.latestSnap !== undefined && this.snapshotter.looksWhole;
    const step = (look: () => Promise<Snapshot>) => async () => {
      const before = this.latestSnap;
      const snap = before ? await look() : await this.snapshotter.take();
      this.latestSnap = snap;
      if (!before) return;
      const changes = diffSnapshots(before, snap);
      if (isEmptyChange(changes)) return;
      this.saveLater(SAVE_AFTER_CHANGE_MS);
      this.opts.onChange(snap, changes);
    };
    const failed = (err: unknown) => {
      if (!this.closed) this.opts.onWarning(`snapshot failed: ${(err as Error).message}`);
    };
    this.looking++;
    if (first) {
      this.snapping = this.snapping.then(step(() => this.snapshotter.update(paths, true))).catch(failed);
      if (this.backend !== 'chokidar') {
        this.lookWholeLater();
      } else {
        // A whole look queued behind this one covers it: settles in quick succession (a write seen
        // in two parts with no settle window) look at the whole tree once, not once each.
        const mine = ++this.wholeLooks;
        this.snapping = this.snapping.then(() => (mine === this.wholeLooks ? step(() => this.snapshotter.update(paths))() : undefined)).catch(failed);
      }
    } else {
      // A look at every file now covers one put off.
      if (!paths || whole) this.cancelWholeLook();
      this.snapping = this.snapping.then(step(() => (paths && !whole ? this.snapshotter.update(paths) : this.snapshotter.take()))).catch(failed);
    }
    if (paths !== undefined) this.changing = this.snapping;
    this.snapping = this.snapping.finally(() => {
      this.looking--;
      if (this.settling) return;
      for (const resolve of this.settledWaiters.splice(0)) resolve();
    });
    return this.snapping;
  }

  /**
   * Puts the look at every file off (see WHOLE_LOOK_DELAY_MS). Changes settling meanwhile do not
   * put it off further: it comes at most that long after the first of them.
   */
  private lookWholeLater(): void {
    if (this.wholeLookTimer) return;
    this.wholeLookTimer = setTimeout(() => {
      this.wholeLookTimer = undefined;
      if (!this.closed) void this.queueSnapshot();
    }, WHOLE_LOOK_DELAY_MS);
    this.wholeLookTimer.unref();
  }

  private cancelWholeLook(): void {
    clearTimeout(this.wholeLookTimer);
    this.wholeLookTimer = undefined;
  }
}

/** A tree closed before its first snapshot never gets one. */
export class TreeClosedError extends Error {
  constructor() {
    super('the watcher was closed before its first snapshot');
  }
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void; reject(e: unknown): void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A directory's device and inode, or undefined when nothing is at the path. */
function identityOf(path: string): { path: string; dev: number; ino: number } | undefined {
  try {
    const st = statSync(path);
    return { path, dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}
