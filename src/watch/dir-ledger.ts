/**
 * Which directories this process watches with inotify, and when it last heard of an entry being
 * created, deleted or moved in each. While such a watch runs, a directory it has heard nothing
 * about holds the entries it held: the cache search, which otherwise stats every directory of the
 * tree before every start, can skip the stat. Anything in doubt (a watch that ended, a directory
 * that was itself moved, deleted or changed, an event that names nothing) counts as changed. What
 * a kernel queue overflow loses, node does not report on Linux: that is lost here as it is to the
 * watcher.
 */
export class DirLedger {
  private seq = 1;
  private lostAt = 0;
  private readonly dirs = new Map<string, { since: number; changedAt: number }>();

  /**
   * Starts a look at directories and returns its mark: what is heard from now on counts as after
   * it. Events the kernel has queued but node has not yet read are not heard yet, so a look lets
   * the event loop turn twice after taking its mark, as findCandidates does.
   */
  mark(): number {
    return ++this.seq;
  }

  /** True when `dir` was watched before `mark` was taken and nothing about its entries was heard since. */
  unchangedSince(dir: string, mark: number | undefined): boolean {
    if (mark === undefined || this.lostAt >= mark) return false;
    const d = this.dirs.get(dir);
    return d !== undefined && d.since < mark && d.changedAt < mark;
  }

  get size(): number {
    return this.dirs.size;
  }

  watched(dir: string): void {
    if (!this.dirs.has(dir)) this.dirs.set(dir, { since: this.seq, changedAt: 0 });
  }

  /** Its watch ended, or may have: only a new watch makes it known again. */
  unwatched(dir: string): void {
    this.dirs.delete(dir);
  }

  entriesChanged(dir: string): void {
    const d = this.dirs.get(dir);
    if (d) d.changedAt = this.seq;
  }

  /** An event that did not say what changed: nothing watched so far can be vouched for. */
  lost(): void {
    this.lostAt = this.seq;
  }
}

/** The process's one ledger: every inotify watch reports to it, whichever tree it belongs to. */
export const dirLedger = new DirLedger();
