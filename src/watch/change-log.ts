/** How many changed paths are remembered before the oldest snapshots must be compared whole. */
const MAX_PATHS = 100_000;

/**
 * The paths each snapshot of one tree changed, so comparing two of its snapshots looks only at
 * those paths instead of every file. Bounded: older history is forgotten, and a comparison that
 * reaches past it falls back to comparing the whole file maps.
 */
export class ChangeLog {
  private entries: { seq: number; paths: readonly string[] }[] = [];
  private total = 0;
  /** Comparisons from a snapshot older than this cannot be answered from the log. */
  private floor = 0;

  constructor(private readonly maxPaths = MAX_PATHS) {}

  record(seq: number, paths: readonly string[]): void {
    if (paths.length === 0) return;
    this.entries.push({ seq, paths });
    this.total += paths.length;
    while (this.total > this.maxPaths && this.entries.length > 0) {
      const old = this.entries.shift()!;
      this.total -= old.paths.length;
      this.floor = old.seq;
    }
  }

  /** Every path changed after snapshot `from` up to and including `to`; undefined if forgotten. */
  between(from: number, to: number): Set<string> | undefined {
    if (from < this.floor) return undefined;
    const out = new Set<string>();
    for (const e of this.entries) {
      if (e.seq > from && e.seq <= to) for (const p of e.paths) out.add(p);
    }
    return out;
  }
}
