/**
 * A fixed-capacity buffer that drops its oldest entries. Positions are absolute (the number of
 * pushes before an entry), so a scrolled view keeps pointing at the same line while new lines
 * arrive and old ones fall off; nothing is ever copied or shifted. Entries may also carry a weight
 * (the characters of a line): past `maxWeight` in all, the oldest go too, so 5,000 lines of 16 KiB
 * cannot hold 80 MB where 5,000 ordinary lines hold half a megabyte. The newest entry always stays.
 */
export class Ring<T> {
  private readonly slots: (T | undefined)[];
  private readonly weights: Float64Array | undefined;
  private first = 0;
  private next = 0;
  private total = 0;

  constructor(
    readonly capacity: number,
    readonly maxWeight = Infinity,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, not ${capacity}`);
    if (!(maxWeight > 0)) throw new RangeError(`ring weight limit must be positive, not ${maxWeight}`);
    this.slots = new Array<T | undefined>(capacity);
    this.weights = maxWeight === Infinity ? undefined : new Float64Array(capacity);
  }

  /** The weight of the entries held. */
  get weight(): number {
    return this.total;
  }

  /** Absolute position of the oldest entry still held. */
  get start(): number {
    return this.first;
  }

  /** Absolute position one past the newest entry (also the count of all pushes). */
  get end(): number {
    return this.next;
  }

  get length(): number {
    return this.next - this.first;
  }

  push(item: T, weight = 0): void {
    const w = this.weights;
    if (w && this.next - this.first === this.capacity) this.dropOldest();
    const i = this.next % this.capacity;
    this.slots[i] = item;
    this.next++;
    if (this.next - this.first > this.capacity) this.first = this.next - this.capacity;
    if (!w) return;
    w[i] = weight;
    this.total += weight;
    while (this.total > this.maxWeight && this.next - this.first > 1) this.dropOldest();
  }

  private dropOldest(): void {
    const i = this.first % this.capacity;
    this.total -= this.weights![i]!;
    this.weights![i] = 0;
    this.slots[i] = undefined;
    this.first++;
  }

  /** The entry at an absolute position, or undefined once it has fallen off (or not yet come). */
  at(pos: number): T | undefined {
    if (pos < this.first || pos >= this.next) return undefined;
    return this.slots[pos % this.capacity];
  }

  /** Entries in [from, to), clamped to what is held. */
  slice(from: number, to: number): T[] {
    const a = Math.max(from, this.first);
    const b = Math.min(to, this.next);
    const out: T[] = [];
    for (let i = a; i < b; i++) out.push(this.slots[i % this.capacity] as T);
    return out;
  }

  /** The newest `n` entries, oldest first. */
  last(n: number): T[] {
    return this.slice(this.next - Math.max(0, n), this.next);
  }

  /** Forgets every entry; positions keep counting so old references stay invalid. */
  clear(): void {
    for (let i = this.first; i < this.next; i++) {
      this.slots[i % this.capacity] = undefined;
      if (this.weights) this.weights[i % this.capacity] = 0;
    }
    this.first = this.next;
    this.total = 0;
  }
}
