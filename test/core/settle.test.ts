import { stat } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Settler } from '../../src/watch/settle.js';
import { waitFor } from '../helpers/wait.js';

function recorder(quietMs: number) {
  const fired: string[][] = [];
  const s = new Settler({ quietMs, onSettled: (p) => fired.push(p.sort()) });
  return { s, fired };
}

describe('Settler', () => {
  it('turns a burst into one settled batch after the quiet window', async () => {
    const { s, fired } = recorder(80);
    const t0 = Date.now();
    s.push(['/x/a']);
    await new Promise((r) => setTimeout(r, 40));
    s.push(['/x/b', '/x/a']);
    await waitFor(() => fired.length === 1, 'one batch');
    expect(fired[0]).toEqual(['/x/a', '/x/b']);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(115);
    s.close();
  });

  it('counts the quiet window from when the paths were seen, not from when they were handed over', async () => {
    const { s, fired } = recorder(1100);
    const seenAt = Date.now() - 1000;
    s.push(['/x/a'], seenAt);
    await waitFor(() => fired.length === 1, 'the batch', 3000);
    // 1100 ms after it was seen is ~100 ms after the push; a window counted from the push ends 1000 ms later.
    expect(Date.now() - seenAt).toBeLessThan(1900);
    expect(Date.now() - seenAt).toBeGreaterThanOrEqual(1099);
    s.close();
  });

  it('with a window of zero, settles right after the events being delivered, before any timer', async () => {
    const { s, fired } = recorder(0);
    // Pushed from an I/O callback, as a watcher's events are; a timer set just before must find
    // the batch settled already (setTimeout's shortest delay is a millisecond).
    const settledFirst = await new Promise<boolean>((resolve) => {
      stat('.', () => {
        setTimeout(() => resolve(fired.length > 0), 0);
        s.push(['/x/a']);
      });
    });
    expect(settledFirst).toBe(true);
    s.close();
  });

  it('holds postpone settling until the last release', async () => {
    const { s, fired } = recorder(20);
    s.hold();
    s.hold();
    s.push(['/x/a']);
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toEqual([]);
    s.release();
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).toEqual([]);
    s.release();
    await waitFor(() => fired.length === 1, 'batch after release');
    expect(fired[0]).toEqual(['/x/a']);
    s.close();
  });

  it('flush settles at once', () => {
    const { s, fired } = recorder(10_000);
    s.push(['/x/a']);
    s.flush();
    expect(fired).toEqual([['/x/a']]);
    s.flush();
    expect(fired).toHaveLength(1);
    s.close();
  });
});
