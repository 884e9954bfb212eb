import { stat } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EventBatcher } from '../../src/watch/batch.js';
import type { WatchEvent } from '../../src/watch/types.js';
import { waitFor } from '../helpers/wait.js';

function batcher() {
  const got: { events: WatchEvent[]; lastAt: number }[] = [];
  const b = new EventBatcher((events, lastAt) => got.push({ events, lastAt }));
  return { b, got };
}

describe('EventBatcher', () => {
  it('dates a batch by its latest change when the backend knows when changes happened', async () => {
    const { b, got } = batcher();
    const now = Date.now();
    b.push([{ kind: 'change', path: '/x/a', at: now - 60 }, { kind: 'add', path: '/x/b', at: now - 40 }]);
    await waitFor(() => got.length === 1, 'the batch');
    expect(got[0]!.lastAt).toBe(now - 40);
    expect(got[0]!.events.map((e) => e.path)).toEqual(['/x/a', '/x/b']);
    b.close();
  });

  it('dates a batch by its arrival when a change time is unknown or lies in the future', async () => {
    const { b, got } = batcher();
    const before = Date.now();
    b.push([{ kind: 'change', path: '/x/a', at: before - 500 }, { kind: 'unlink', path: '/x/b' }]);
    b.push([{ kind: 'change', path: '/x/c', at: before + 60_000 }]);
    await waitFor(() => got.length === 1, 'the batch');
    expect(got[0]!.lastAt).toBeGreaterThanOrEqual(before);
    expect(got[0]!.lastAt).toBeLessThan(before + 1000);
    b.close();
  });

  it('with no time to hold events, delivers what arrived together before any timer', async () => {
    const got: WatchEvent[][] = [];
    const b = new EventBatcher((events) => got.push(events), 0);
    const deliveredFirst = await new Promise<boolean>((resolve) => {
      stat('.', () => {
        setTimeout(() => resolve(got.length === 1), 0);
        b.push([{ kind: 'change', path: '/x/a' }]);
        b.push([{ kind: 'change', path: '/x/b' }]);
      });
    });
    expect(deliveredFirst).toBe(true);
    expect(got[0]!.map((e) => e.path)).toEqual(['/x/a', '/x/b']);
    b.close();
  });

  it('keeps only the last of repeated events, in their latest order', async () => {
    const { b, got } = batcher();
    b.push([{ kind: 'add', path: '/x/a' }, { kind: 'unlink', path: '/x/a' }, { kind: 'add', path: '/x/a' }]);
    await waitFor(() => got.length === 1, 'the batch');
    expect(got[0]!.events.map((e) => e.kind)).toEqual(['unlink', 'add']);
    b.close();
  });

  it('without a hold (no settle window) still delivers what one turn pushed as one batch, and later pushes as the next', async () => {
    const got: WatchEvent[][] = [];
    const b = new EventBatcher((events) => got.push(events), 0);
    b.push([{ kind: 'change', path: '/x/a' }]);
    b.push([{ kind: 'change', path: '/x/b' }]);
    expect(got).toHaveLength(0);
    await waitFor(() => got.length === 1, 'the first batch');
    b.push([{ kind: 'change', path: '/x/c' }]);
    await waitFor(() => got.length === 2, 'the second batch');
    expect(got.map((evs) => evs.map((e) => e.path))).toEqual([['/x/a', '/x/b'], ['/x/c']]);
    b.close();
  });
});
