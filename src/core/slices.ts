import { setImmediate as yieldToLoop } from 'node:timers/promises';

/**
 * Synchronous work between two yields to the event loop: long jobs (walking or reading a
 * 100,000-file tree) run in slices, so events, signals and sockets are still heard meanwhile.
 */
const SLICE_MS = 8;

/** Calls `fn` on each item, yielding to the event loop between slices. */
export async function forEachSliced<T>(items: readonly T[], fn: (item: T) => void): Promise<void> {
  let sliceStart = performance.now();
  for (let i = 0; i < items.length; i++) {
    fn(items[i]!);
    if ((i & 63) === 63 && performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
}

/** Visits items popped from `stack` until it is empty; `visit` may push more. */
export async function drainSliced<T>(stack: T[], visit: (item: T) => void): Promise<void> {
  let sliceStart = performance.now();
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    visit(item);
    if (performance.now() - sliceStart > SLICE_MS) {
      await yieldToLoop();
      sliceStart = performance.now();
    }
  }
}
