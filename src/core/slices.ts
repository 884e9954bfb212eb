import { setImmediate as yieldToLoop } from 'node:timers/promises';

/**
 * Synchronous work between two yields to the event loop: long jobs (walking or reading a
 * 100,000-file tree) run in slices, so events, signals and sockets are still heard meanwhile.
 */
const SLICE_MS = 8;

/** Tells a loop when its slice is used up: `if (clock.due()) await clock.next();`. */
export class SliceClock {
  private start = performance.now();

  due(): boolean {
    return performance.now() - this.start > SLICE_MS;
  }

  /** Yields to the event loop; the next slice starts when the loop comes back. */
  async next(): Promise<void> {
    await yieldToLoop();
    this.start = performance.now();
  }
}

/**
 * Calls `fn` on each item, yielding to the event loop between slices; `stop`, asked after each
 * yield, ends the loop early.
 */
export async function forEachSliced<T>(items: readonly T[], fn: (item: T) => void, stop?: () => boolean): Promise<void> {
  const clock = new SliceClock();
  for (let i = 0; i < items.length; i++) {
    fn(items[i]!);
    if ((i & 63) === 63 && clock.due()) {
      await clock.next();
      if (stop?.()) return;
    }
  }
}

/** Visits items popped from `stack` until it is empty; `visit` may push more. */
export async function drainSliced<T>(stack: T[], visit: (item: T) => void): Promise<void> {
  const clock = new SliceClock();
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    visit(item);
    if (clock.due()) await clock.next();
  }
}
