import { soon, type Soon } from '../core/soon.js';
import type { WatchEvent } from './types.js';

/** Long enough to gather one burst of backend callbacks into a single delivery, short next to any settle delay. */
export const BATCH_MS = 10;

/**
 * Gathers events from every target into batches. Repeats of the same event keep only their last
 * place, so the order still ends in each path's latest state (add, unlink, add stays unlink, add).
 */
export class EventBatcher {
  private pending: WatchEvent[] = [];
  private timer: Soon | undefined;
  private closed = false;
  private lastAt = 0;

  /**
   * `lastAt` is when the latest change of the batch happened: its own time when the backend knows
   * it, its arrival otherwise. Time the backend or this batch held an event is not quiet time lost.
   */
  /**
   * `holdMs` (at most BATCH_MS): a settle window shorter than the batch would be stretched by it,
   * since the window counts from each change while the batch counts from its arrival.
   */
  constructor(
    private readonly deliver: (events: WatchEvent[], lastAt: number) => void,
    private readonly holdMs = BATCH_MS,
  ) {}

  push(events: readonly WatchEvent[]): void {
    if (this.closed || events.length === 0) return;
    const now = Date.now();
    for (const e of events) {
      this.pending.push(e);
      // A change time after the arrival is clock skew (a network filesystem's clock): not trusted.
      const at = e.at !== undefined && e.at <= now ? e.at : now;
      this.lastAt = Math.max(this.lastAt, at);
    }
    this.timer ??= soon(() => this.flush(), Math.min(BATCH_MS, this.holdMs));
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.pending = [];
  }

  private flush(): void {
    this.timer = undefined;
    const events = this.pending;
    this.pending = [];
    if (this.closed || events.length === 0) return;
    const last = new Map<string, number>();
    events.forEach((e, i) => last.set(`${e.kind}\0${e.path}`, i));
    this.deliver(events.filter((e, i) => last.get(`${e.kind}\0${e.path}`) === i), this.lastAt);
  }
}
