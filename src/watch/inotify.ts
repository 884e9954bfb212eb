import { statSync, watch, type FSWatcher } from 'node:fs';
import { basename, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { outermost } from './ancestry.js';
import { dirLedger } from './dir-ledger.js';
import { look, type Look } from './look.js';
import { started, type OpenTarget, type TargetHandle, type TargetSink } from './supervise.js';
import { dirIdentity, isInside, type Target } from './targets.js';
import type { PathFilter, WatchEvent } from './types.js';
import { walkTree } from './walk.js';

const noop = (): void => undefined;

/**
 * Linux's default backend: node's own fs.watch on every directory that counts, each one inotify
 * watch. inotify needs nothing per file, so starting on a 100,000-file tree means reading its
 * 4,000 directories once (about 0.1 s), where @parcel/watcher stats every file and matches each
 * path against its ignore patterns (about 0.5 s and 28 MB more). Ignored directories are never
 * watched, including those that appear later.
 */
export function inotifyOpener(filter: PathFilter, listFiles: boolean): OpenTarget {
  return (target, sink) => started(new DirWatchTarget(filter, target, sink, listFiles));
}

/** What an event said of a path: `rename` (created, deleted or moved) outweighs `change`. */
type Said = 'rename' | 'change';

class DirWatchTarget implements TargetHandle {
  private readonly watchers = new Map<string, FSWatcher>();
  /** With `listFiles`, what the first walk found (see Watcher.listed). */
  listed: string[] | undefined;
  /** Paths heard of since the last look, gathered so a burst of writes costs one look per path. */
  private pending = new Map<string, Said>();
  private scheduled = false;
  /** Looks and sweeps run one at a time, in arrival order. */
  private work: Promise<void> = Promise.resolve();
  private closed = false;
  /**
   * Where an event about the target directory itself lands: inotify names the watched directory
   * when it is deleted, moved, or only has its mode or times changed (node reports all of those as
   * a rename, for a directory), and node joins that name to it.
   */
  private readonly selfPath: string;
  private rootId = '';

  constructor(
    private readonly filter: PathFilter,
    private readonly target: Target,
    private readonly sink: TargetSink,
    private readonly listFiles: boolean,
  ) {
    this.selfPath = join(target.dir, basename(target.dir));
  }

  /** Each directory is watched before it is listed, so nothing created in it meanwhile is lost. */
  async start(): Promise<void> {
    const { dir, whole, files } = this.target;
    this.watchDir(dir, true);
    this.rootId = dirIdentity(statSync(dir));
    const found: string[] = [];
    if (whole) {
      const onFile = this.listFiles ? (f: string) => void found.push(f) : undefined;
      await walkTree([dir], this.filter, noop, { onEnter: (d) => this.watchDir(d, true), onFile });
    } else {
      for (const f of files) if ((await look(f)).kind === 'file') found.push(f);
    }
    if (this.listFiles) this.listed = found;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [d, w] of this.watchers) this.unwatch(d, w);
    this.watchers.clear();
    await this.work;
  }

  /**
   * A directory that vanished before its watch was added is simply absent. Other failures (the
   * kernel's watch limit) end the start when `starting`, and are reported otherwise.
   */
  private watchDir(d: string, starting: boolean): void {
    if (this.closed || this.watchers.has(d)) return;
    let w: FSWatcher;
    try {
      w = watch(d, { persistent: true }, (said, name) => this.heard(d, said as Said, name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if ((code === 'ENOENT' || code === 'ENOTDIR') && d !== this.target.dir) return;
      if (starting) throw err;
      this.sink.error(err);
      return;
    }
    w.on('error', (err) => {
      dirLedger.unwatched(d);
      if (!this.closed) this.sink.error(err);
    });
    this.watchers.set(d, w);
    dirLedger.watched(d);
  }

  private heard(dir: string, said: Said, name: string | Buffer | null): void {
    if (this.closed) return;
    this.tellLedger(dir, said, name);
    // Without a name the kernel lost track (its queue overflowed): the directory is looked at whole.
    const p = name === null ? dir : join(dir, name.toString());
    if (!this.target.whole && !this.target.files.has(p)) return;
    // A write to a file that does not count (a log, a cache) needs no look: only a rename can be a directory.
    if (said === 'change' && name !== null && !this.filter.includeFile(p)) return;
    if (this.pending.get(p) !== 'rename') this.pending.set(p, name === null ? 'rename' : said);
    if (this.scheduled) return;
    this.scheduled = true;
    this.work = this.work
      .then(() => nextTurn())
      .then(() => this.lookAtPending())
      .catch((e: unknown) => this.sink.error(e));
  }

  private unwatch(d: string, w: FSWatcher): void {
    w.close();
    dirLedger.unwatched(d);
  }

  /**
   * Every event, before any filtering: the ledger vouches for a directory's entries only while its
   * watch reports all of them. A rename naming the directory itself may mean it was deleted or
   * moved, and its watch gone or now watching another path: it is no longer vouched for.
   */
  private tellLedger(dir: string, said: Said, name: string | Buffer | null): void {
    if (name === null) dirLedger.lost();
    else if (said === 'rename') {
      if (name.toString() === basename(dir)) dirLedger.unwatched(dir);
      else dirLedger.entriesChanged(dir);
    }
  }

  private async lookAtPending(): Promise<void> {
    this.scheduled = false;
    const heard = [...this.pending];
    this.pending = new Map();
    const looks = await Promise.all(heard.map(([p]) => look(p)));
    if (this.closed) return;
    const out: WatchEvent[] = [];
    const appeared: string[] = [];
    let vanished = false;
    heard.forEach(([p, said], i) => {
      const seen = looks[i]!;
      if (p === this.target.dir && seen.kind !== 'dir') vanished = true;
      // Deleted or moved away, its watch died with it, even when a new directory already stands in
      // its place (a file of the same name deleted inside it costs a needless reopen, nothing more).
      else if (p === this.selfPath && said === 'rename' && seen.kind === 'gone' && this.target.whole) vanished ||= !this.rootIsSame();
      else this.judge(p, said, seen, out, appeared);
    });
    if (appeared.length > 0) await this.sweep(appeared, out);
    if (this.closed) return;
    this.sink.emit(out);
    if (vanished) this.sink.vanished();
  }

  private judge(p: string, said: Said, seen: Look, out: WatchEvent[], appeared: string[]): void {
    if (seen.kind === 'dir') {
      // A directory created, moved in or put back in place of one that was deleted: watched afresh.
      if (this.target.whole && !this.filter.skipDir(p) && (said === 'rename' || !this.watchers.has(p))) appeared.push(p);
    } else if (seen.kind === 'gone') {
      if (this.forget(p)) out.push({ kind: 'unlinkDir', path: p });
      else if (this.filter.includeFile(p)) out.push({ kind: 'unlink', path: p });
    } else if (seen.kind === 'file' && this.filter.includeFile(p)) {
      out.push({ kind: said === 'rename' ? 'add' : 'change', path: p, at: seen.at });
    }
  }

  private rootIsSame(): boolean {
    try {
      return dirIdentity(statSync(this.target.dir)) === this.rootId;
    } catch {
      return false;
    }
  }

  /** Closes the watches at and below a directory; false when it was not a watched directory. */
  private forget(dir: string): boolean {
    // Only a watched directory has watches below it: a deleted file costs one lookup.
    if (!this.watchers.has(dir)) return false;
    let any = false;
    for (const [d, w] of this.watchers) {
      if (d !== dir && !isInside(d, dir)) continue;
      this.unwatch(d, w);
      this.watchers.delete(d);
      any = true;
    }
    return any;
  }

  /** Watches new directories and everything below them, and reports what they already hold. */
  private async sweep(dirs: string[], out: WatchEvent[]): Promise<void> {
    const tops = outermost(dirs);
    for (const top of tops) this.forget(top);
    await walkTree(tops, this.filter, noop, {
      onEnter: (d) => this.watchDir(d, false),
      onDir: (d) => out.push({ kind: 'addDir', path: d }),
      onFile: (f) => out.push({ kind: 'add', path: f }),
    });
  }
}
