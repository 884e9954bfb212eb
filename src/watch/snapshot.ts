import { lstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { hasAncestorIn, outermost } from './ancestry.js';
import type { ChangeSet } from '../core/events.js';
import { forEachSliced } from '../core/slices.js';
import { ChangeLog } from './change-log.js';
import { FileMap, StatesView } from './file-map.js';
import { CodeSum } from './code-sum.js';
import { changedSince, ctimeOfState, readFileState, sameContent, type FileState } from './file-state.js';
import type { SavedStates } from './index-file.js';

export { contentOf, type FileState } from './file-state.js';

export interface Snapshot {
  /** Increases with every snapshot of a tree; a barrier compares these, never clocks. */
  seq: number;
  /** Never changed once published: later snapshots copy it. Compare states with `sameContent`. */
  files: ReadonlyMap<string, FileState>;
  /** Short digest of every path and content: equal code ids mean identical watched code. */
  codeId: string;
  /** The history shared by the snapshots of one tree, so they are compared by what changed. */
  readonly log?: ChangeLog;
  /**
   * The tree as the previous run saved it, not yet compared with the files on disk: what an early
   * start runs on until the first real snapshot confirms or refutes it.
   */
  readonly provisional?: true;
  /**
   * A provisional snapshot of a start made before any file was read (no usable saved index): its
   * code id is empty, and its files are those of the first look, except the paths that changed, or
   * may have, after the start (see Snapshotter.unknownStart).
   */
  readonly unknown?: true;
}

/** How the first look of a tree whose first generation started before any file was read checks it. */
export interface StartCheck {
  /** When the start began (Date.now() clock): a file or directory changed at or after it is suspect. */
  since: number;
  /** Paths that changed during the look, asked for once every file has been looked at. */
  more(): Iterable<string>;
}

/** Where a snapshot's files come from. */
export interface FileSource {
  /** Every file that counts below `dirs`, or below every root when omitted. */
  list(dirs?: readonly string[]): Promise<string[]>;
  /** Whether one path, when it is a file, takes part. */
  counts(path: string): boolean;
  /** False when even a small tree must only be looked at where it changed (tests of `update`). */
  wholeIsCheap?: boolean;
  /**
   * Lists every file before watching has begun, so the listing can overlap the watcher's start;
   * confirming it once watching has begun makes up for whatever changed meanwhile.
   */
  listEarly?(): Promise<EarlyListing>;
}

export interface EarlyListing {
  /** Every file that counts, as of now. */
  confirm(): Promise<string[]>;
}

/**
 * Up to this many files, every update looks at the whole tree (a few milliseconds). Events can
 * lag well behind the writes they report (a loaded machine, a backend batching a burst), and a
 * whole look still sees the writes whose events are late; past this size only the directories of
 * the changed paths are looked at again.
 */
const WHOLE_LOOK_MAX_FILES = 2000;

/**
 * Takes content snapshots of a tree. `take()` looks at every file (reading only those whose stat
 * changed); `update(paths)` looks only at the given paths, a directory among them standing for
 * everything below it. Either way the new snapshot shares unchanged entries with the previous one
 * and keeps its code id by adding and removing single files.
 */
export class Snapshotter {
  private readonly source: FileSource;
  private readonly log = new ChangeLog();
  private readonly prefix: string;
  private current: ReadonlyMap<string, FileState> = new Map<string, FileState>();
  private sum = new CodeSum();
  private seq = 0;
  /** States saved by an earlier run, by relative path: the first `take()` compares with them. */
  private saved: SavedStates | undefined;
  private savedFiles: SavedFiles | undefined;
  private readCount = 0;
  private stopped = false;
  /** The files of a start made before any file was read, filled in by the first `take()`. */
  private pending: PendingFiles | undefined;

  /** `base` makes the code id independent of where the checkout lives. */
  constructor(
    source: FileSource | (() => Promise<string[]>),
    private readonly base: string,
  ) {
    this.source = typeof source === 'function' ? { list: source, counts: () => true } : source;
    this.prefix = base.endsWith(sep) ? base : base + sep;
  }

  /** States from an earlier run, keyed by path relative to `base`, trusted exactly as this run's own. */
  seed(saved: SavedStates): void {
    if (this.seq === 0) {
      this.saved = saved;
      this.savedFiles?.bind(saved);
    }
  }

  /**
   * The tree as its saved index has it, before any file is looked at: snapshot 0, which the first
   * `take()` is compared with. Its files are there once the index is seeded.
   */
  provisional(codeId: string): Snapshot {
    this.savedFiles ??= new SavedFiles(this.base, (p) => this.rel(p));
    if (this.saved) this.savedFiles.bind(this.saved);
    return { seq: 0, files: this.savedFiles, codeId, log: this.log, provisional: true };
  }

  /**
   * Snapshot 0 for a start made before any file was read. The first `take()`, given the moment of
   * that start, fills its files with what it read, except each path whose ctime is at or after the
   * start (or that the check names): those get a content no file has, so the start's generation
   * is stale unless nothing at all changed after it began.
   */
  unknownStart(): Snapshot {
    this.pending ??= new PendingFiles();
    return { seq: 0, files: this.pending, codeId: '', log: this.log, provisional: true, unknown: true };
  }

  /** Ends a `take()` under way, and fails every later one: the tree is closing. */
  stop(): void {
    this.stopped = true;
  }

  /** How many files the last `take()` had to read rather than stat. */
  get lastReads(): number {
    return this.readCount;
  }

  /** Every file under the roots as they are now; `listed` when the caller already has the list. */
  async take(listed?: readonly string[], check?: StartCheck): Promise<Snapshot> {
    const paths = listed ?? (await this.source.list());
    const pending = this.seq === 0 ? this.pending : undefined;
    const since = pending && check ? check.since : undefined;
    const suspect: string[] = [];
    const next = new Map<string, FileState>();
    const sum = new CodeSum();
    const saved = this.saved;
    this.saved = undefined;
    // Snapshot 0 is the saved tree when an early start may be running on it: compared with it.
    const versusSaved = this.seq === 0 && this.savedFiles !== undefined && saved !== undefined;
    const differs: string[] = [];
    let reads = 0;
    // Every entry that is not trusted to stat alone is read again: a full look is the safe one.
    await forEachSliced(paths, (p) => {
      const rel = this.rel(p);
      const prev = this.current.get(p) ?? saved?.get(rel);
      const st = readFileState(p, rel, prev, since !== undefined);
      if (versusSaved && st !== prev) differs.push(p);
      if (!st) return;
      if (since !== undefined && changedSince(ctimeOfState(st) ?? Infinity, since)) suspect.push(p);
      if (st !== prev) reads++;
      next.set(p, st);
      sum.add(st);
    }, () => this.stopped);
    if (this.stopped) throw new Error('the snapshot was stopped');
    this.readCount = reads;
    let changed: string[];
    if (this.seq > 0) {
      changed = paths.filter((p) => next.get(p) !== this.current.get(p));
      for (const p of this.current.keys()) if (!next.has(p)) changed.push(p);
    } else if (versusSaved) {
      changed = differs;
      for (const rel of saved.unvisited()) changed.push(join(this.base, rel));
      // The provisional snapshot keeps the saved states for as long as something runs on it.
      this.savedFiles = undefined;
    } else if (pending) {
      // What the start ran is what was read, unless something changed after it began.
      changed = check ? [...new Set([...suspect, ...check.more()])] : [...next.keys()];
      pending.bind(next, changed);
      this.pending = undefined;
    } else if (this.seq === 0 && this.savedFiles !== undefined) {
      // Something may run on a saved tree whose states were then discarded (a damaged index):
      // nothing is known of what it ran, so every file counts as new to it.
      changed = [...next.keys()];
      this.savedFiles = undefined;
    } else {
      // Nothing compares with the empty state before the first snapshot: its paths are not logged.
      changed = [];
    }
    return this.publish(next, sum, changed);
  }

  /**
   * Whether an update of this tree looks at every file: true for small trees, where a whole look
   * costs a few milliseconds and still sees writes whose events are late.
   */
  get looksWhole(): boolean {
    return this.current.size <= WHOLE_LOOK_MAX_FILES && this.source.wholeIsCheap !== false;
  }

  /**
   * Only the given paths, as they are now: a file is read if its stat changed, a directory is
   * listed again (files gone from it are dropped), a missing path drops everything at or below it.
   * A small tree is looked at whole instead (see looksWhole), unless `only` asks for the paths alone.
   */
  async update(paths: Iterable<string>, only = false): Promise<Snapshot> {
    if (!only && this.looksWhole) return this.take();
    const files = new Set<string>();
    const dirs: string[] = [];
    const gone: string[] = [];
    const parents = new Set<string>();
    for (const p of paths) {
      const kind = kindOf(p);
      if (kind === 'dir') dirs.push(p);
      else if (kind === 'file' && this.source.counts(p)) files.add(p);
      else gone.push(p);
      if (kind !== 'dir') parents.add(dirname(p));
    }
    // A burst usually lands in a few directories: their other files are looked at too, in case
    // their events are still on the way.
    for (const dir of parents) for (const f of filesIn(dir)) if (this.source.counts(f)) files.add(f);
    const topDirs = outermost(dirs);
    const listed = topDirs.length > 0 ? await this.source.list(topDirs) : [];
    for (const f of listed) files.add(f);
    const below = new Set([...topDirs, ...gone]);
    const stale = new Set<string>();
    if (below.size > 0) {
      for (const p of this.current.keys()) {
        if (below.has(p) || (!files.has(p) && hasAncestorIn(p, below))) stale.add(p);
      }
    }

    const changes = new Map<string, FileState | undefined>();
    const sum = this.sum.clone();
    const changed: string[] = [];
    const put = (p: string, st: FileState | undefined) => {
      const prev = this.current.get(p);
      if (st === prev) return;
      changes.set(p, st);
      if (prev) sum.remove(prev);
      if (st) sum.add(st);
      if (!prev || !st || !sameContent(prev, st)) changed.push(p);
    };
    for (const p of stale) if (!files.has(p)) put(p, undefined);
    await forEachSliced([...files], (p) => put(p, readFileState(p, this.rel(p), this.current.get(p))));
    return this.publish(FileMap.with(this.current, changes), sum, changed);
  }

  private publish(files: ReadonlyMap<string, FileState>, sum: CodeSum, changed: string[]): Snapshot {
    const seq = ++this.seq;
    this.current = files;
    this.sum = sum;
    this.log.record(seq, changed);
    return { seq, files, codeId: sum.id, log: this.log };
  }

  /** The path relative to `base`, as the file hashes and the saved index name it. */
  rel(p: string): string {
    return p.startsWith(this.prefix) ? p.slice(this.prefix.length) : relative(this.base, p);
  }
}

/**
 * The files of the saved index by absolute path, the map of a provisional snapshot. Looked up only
 * to tell what differs from it; listing it decodes the whole index, which nothing does on a start.
 */
class SavedFiles extends StatesView {
  private states: SavedStates | undefined;

  constructor(
    private readonly base: string,
    private readonly relOf: (abs: string) => string,
  ) {
    super();
  }

  bind(states: SavedStates): void {
    this.states = states;
  }

  get size(): number {
    return this.states?.size ?? 0;
  }

  get(abs: string): FileState | undefined {
    return this.states?.get(this.relOf(abs));
  }

  *entries(): MapIterator<[string, FileState]> {
    for (const [rel, st] of this.states?.entries() ?? []) yield [join(this.base, rel), st];
  }
}

/** A content no file has: what a suspect path of a start made before any file was read is compared as. */
const UNKNOWN_STATE: FileState = '?'.repeat(27) + 'u0:0:0';

/** The files of `Snapshotter.unknownStart`: none until the first look binds them. */
class PendingFiles extends StatesView {
  private files: ReadonlyMap<string, FileState> = new Map();
  private suspect: ReadonlySet<string> = new Set();

  bind(files: ReadonlyMap<string, FileState>, suspect: readonly string[]): void {
    this.files = files;
    this.suspect = new Set(suspect);
  }

  get size(): number {
    return this.files.size;
  }

  get(p: string): FileState | undefined {
    return this.suspect.has(p) ? UNKNOWN_STATE : this.files.get(p);
  }

  *entries(): MapIterator<[string, FileState]> {
    for (const [p, st] of this.files) yield [p, this.suspect.has(p) ? UNKNOWN_STATE : st];
    for (const p of this.suspect) if (!this.files.has(p)) yield [p, UNKNOWN_STATE];
  }
}

type Kind = 'file' | 'dir' | 'none';

/** A symlink to a file counts as a file; a symlinked directory is not followed, as in the walk. */
function kindOf(p: string): Kind {
  try {
    const l = lstatSync(p);
    if (l.isFile()) return 'file';
    if (l.isDirectory()) return 'dir';
    if (l.isSymbolicLink()) return statSync(p).isFile() ? 'file' : 'none';
  } catch {
    // gone
  }
  return 'none';
}

/** Files directly in `dir` (symlinks to files included); nothing when it cannot be read. */
function filesIn(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isFile() || (e.isSymbolicLink() && kindOf(join(dir, e.name)) === 'file'))
      .map((e) => join(dir, e.name));
  } catch {
    return [];
  }
}

/** What differs between two snapshots, by content; each list sorted. */
export function diffSnapshots(before: Snapshot, after: Snapshot): ChangeSet {
  const added: string[] = [];
  const modified: string[] = [];
  const removed: string[] = [];
  if (before.files === after.files) return { added, modified, removed };
  const logged =
    before.log && before.log === after.log
      ? before.log.between(Math.min(before.seq, after.seq), Math.max(before.seq, after.seq))
      : undefined;
  const paths = logged ?? new Set([...before.files.keys(), ...after.files.keys()]);
  for (const p of paths) {
    const old = before.files.get(p);
    const now = after.files.get(p);
    if (!old && now) added.push(p);
    else if (old && !now) removed.push(p);
    else if (old && now && !sameContent(old, now)) modified.push(p);
  }
  return { added: added.sort(), modified: modified.sort(), removed: removed.sort() };
}

export function isEmptyChange(c: ChangeSet): boolean {
  return c.added.length === 0 && c.modified.length === 0 && c.removed.length === 0;
}

export function changedPaths(c: ChangeSet): string[] {
  return [...c.modified, ...c.added, ...c.removed];
}
