import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/worker/backoff.js';

describe('Backoff', () => {
  it('doubles up to the cap and resets after a healthy run', () => {
    const b = new Backoff(100, 1000, 60_000);
    expect([1, 2, 3, 4, 5, 6].map(() => b.next(10).delayMs)).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(b.next(60_000)).toEqual({ attempt: 1, delayMs: 100 });
    expect(b.next(5).delayMs).toBe(200);
  });
});
