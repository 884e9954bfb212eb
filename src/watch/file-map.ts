import type { FileState } from './file-state.js';

/**
 * A read-only map of file states that is not a Map: what it holds is worked out on each lookup.
 * `get`, `size` and `entries` are its own; the rest of ReadonlyMap follows from them.
 */
export abstract class StatesView implements ReadonlyMap<string, FileState> {
  abstract readonly size: number;
  abstract get(p: string): FileState | undefined;
  abstract entries(): MapIterator<[string, FileState]>;

  has(p: string): boolean {
    return this.get(p) !== undefined;
  }

  *keys(): MapIterator<string> {
    for (const [p] of this.entries()) yield p;
  }

  *values(): MapIterator<FileState> {
    for (const [, st] of this.entries()) yield st;
  }

  [Symbol.iterator](): MapIterator<[string, FileState]> {
    return this.entries();
  }

  forEach(fn: (value: FileState, key: string, map: ReadonlyMap<string, FileState>) => void): void {
    for (const [p, st] of this.entries()) fn(st, p, this);
  }
}

/**
 * The files of a published snapshot: a map shared with earlier snapshots plus what changed since it
 * was made. A snapshot never changes once published, so an update would otherwise copy the whole
 * tree's map for one edited file (about 50 ms and as many megabytes of garbage on 100,000 files).
 * The changes are folded into a new shared map once they are many (see COMPACT_*).
 */
export class FileMap extends StatesView {
  private constructor(
    private readonly base: ReadonlyMap<string, FileState>,
    /** `null` marks a path removed since `base`. */
    private readonly delta: ReadonlyMap<string, FileState | null>,
    readonly size: number,
  ) {
    super();
  }

  /**
   * `files` with `changes` applied (`undefined` removes a path). `files` itself is left as it is;
   * what the two have in common is shared.
   */
  static with(files: ReadonlyMap<string, FileState>, changes: ReadonlyMap<string, FileState | undefined>): ReadonlyMap<string, FileState> {
    if (changes.size === 0) return files;
    const base = files instanceof FileMap ? files.base : files;
    const delta = new Map(files instanceof FileMap ? files.delta : []);
    let size = files.size;
    for (const [p, st] of changes) {
      const had = files.has(p);
      if (st) {
        if (!had) size++;
        if (base.get(p) === st) delta.delete(p);
        else delta.set(p, st);
      } else if (had) {
        size--;
        if (base.has(p)) delta.set(p, null);
        else delta.delete(p);
      }
    }
    if (delta.size > Math.max(COMPACT_MIN, base.size / COMPACT_FRACTION)) return new Map(new FileMap(base, delta, size));
    return new FileMap(base, delta, size);
  }

  get(p: string): FileState | undefined {
    const d = this.delta.get(p);
    if (d !== undefined) return d ?? undefined;
    return this.base.get(p);
  }

  *entries(): MapIterator<[string, FileState]> {
    for (const [p, st] of this.base) {
      const d = this.delta.get(p);
      if (d === undefined) yield [p, st];
      else if (d !== null) yield [p, d];
    }
    for (const [p, st] of this.delta) if (st !== null && !this.base.has(p)) yield [p, st];
  }

}

/**
 * Changes are folded into a new shared map once they exceed this many paths or this fraction of
 * the tree: lookups stay two map reads, and a tree edited all day does not keep a long list.
 */
const COMPACT_MIN = 4096;
const COMPACT_FRACTION = 8;
