/**
 * A fixed-capacity buffer that drops its oldest entries. Positions are absolute (the number of
 * pushes before an entry), so a scrolled view keeps pointing at the same line while new lines
 * arrive and old ones fall off; nothing is ever copied or shifted.
 */
export class Ring<T> {
  private readonly slots: (T | undefined)[];
  private first = 0;
  private next = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring capacity must be a positive integer, not ${capacity}`);
    this.slots = new Array<T | undefined>(capacity);
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

  push(item: T): void {
    this.slots[this.next % this.capacity] = item;
    this.next++;
    if (this.next - this.first > this.capacity) this.first = this.next - this.capacity;
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
    for (let i = this.first; i < this.next; i++) this.slots[i % this.capacity] = undefined;
    this.first = this.next;
  }
}
