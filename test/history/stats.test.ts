import { describe, expect, it } from 'vitest';
import {
  formatRate,
  median,
  percentile,
  fisherExact,
  wilson,
  zeroFailureUpperBound,
  Z95,
} from '../../src/history/stats.js';

/**
 * The Wilson bounds derived a different way: they are the two roots in pi of
 * (phat - pi)^2 = z^2 pi (1 - pi) / n, a quadratic solved here with the plain formula.
 */
function wilsonByQuadratic(k: number, n: number): [number, number] {
  const p = k / n;
  const z2 = Z95 * Z95;
  const a = 1 + z2 / n;
  const b = -(2 * p + z2 / n);
  const c = p * p;
  const root = Math.sqrt(b * b - 4 * a * c);
  return [(-b - root) / (2 * a), (-b + root) / (2 * a)];
}

describe('wilson', () => {
  it('matches the published examples of Newcombe (1998), Statistics in Medicine 17:857-872', () => {
    const published: [number, number, number, number][] = [
      [81, 263, 0.2553, 0.3662],
      [15, 148, 0.0624, 0.1605],
      [0, 20, 0, 0.1611],
      [1, 29, 0.0061, 0.1718],
    ];
    for (const [k, n, low, high] of published) {
      const w = wilson(k, n);
      expect(w.rate).toBe(k / n);
      expect(w.low).toBeCloseTo(low, 4);
      expect(w.high).toBeCloseTo(high, 4);
    }
  });

  it('agrees with the quadratic roots over a grid of counts', () => {
    for (const n of [1, 2, 5, 13, 50, 200, 1000]) {
      for (let k = 0; k <= n; k += Math.max(1, Math.floor(n / 7))) {
        const [low, high] = wilsonByQuadratic(k, n);
        const w = wilson(k, n);
        expect(w.low).toBeCloseTo(Math.max(0, low), 12);
        expect(w.high).toBeCloseTo(Math.min(1, high), 12);
        expect(w.low).toBeLessThanOrEqual(w.rate);
        expect(w.high).toBeGreaterThanOrEqual(w.rate);
      }
    }
  });

  it('gives exactly 0 and 1 at the ends, where 0 failures has upper bound z^2 / (n + z^2)', () => {
    expect(wilson(0, 50)).toEqual({ rate: 0, low: 0, high: (Z95 * Z95) / (50 + Z95 * Z95) });
    expect(wilson(0, 50).high).toBeCloseTo(0.0713, 4);
    expect(wilson(50, 50).high).toBe(1);
    expect(wilson(50, 50).low).toBeCloseTo(1 - wilson(0, 50).high, 12);
  });

  it('gives 7 of 50 the interval 7.0%-26.2%', () => {
    const w = wilson(7, 50);
    expect(formatRate(w.rate)).toBe('14.0%');
    expect(formatRate(w.low)).toBe('7.0%');
    expect(formatRate(w.high)).toBe('26.2%');
  });

  it('rejects impossible counts', () => {
    expect(() => wilson(0, 0)).toThrow(RangeError);
    expect(() => wilson(3, 2)).toThrow(RangeError);
    expect(() => wilson(-1, 2)).toThrow(RangeError);
    expect(() => wilson(1.5, 2)).toThrow(RangeError);
  });
});

describe('zeroFailureUpperBound', () => {
  it('is the rate at which n clean runs have a 5% chance', () => {
    for (const n of [1, 10, 50, 300]) {
      const u = zeroFailureUpperBound(n);
      expect(Math.pow(1 - u, n)).toBeCloseTo(0.05, 12);
    }
    expect(zeroFailureUpperBound(1)).toBeCloseTo(0.95, 12);
    expect(formatRate(zeroFailureUpperBound(50))).toBe('5.8%');
    expect(formatRate(zeroFailureUpperBound(20))).toBe('13.9%');
  });

  it('approaches the rule of three (3/n) from below, as Hanley & Lippman-Hand (1983) note', () => {
    for (const n of [30, 100, 1000, 100000]) {
      expect(zeroFailureUpperBound(n)).toBeLessThan(3 / n);
    }
    // -ln(0.05) = 2.9957: the exact constant the rule of three rounds.
    expect(zeroFailureUpperBound(100000) * 100000).toBeCloseTo(-Math.log(0.05), 3);
  });

  it('is tighter than the two-sided Wilson bound, being one-sided', () => {
    expect(zeroFailureUpperBound(50)).toBeLessThan(wilson(0, 50).high);
  });
});

describe('median and percentile', () => {
  it('median takes the middle, or the mean of the middle two', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });

  it('nearest-rank percentiles match the worked examples in Wikipedia "Percentile"', () => {
    const a = [15, 20, 35, 40, 50];
    expect([5, 30, 40, 50, 100].map((p) => percentile(a, p))).toEqual([15, 20, 20, 35, 50]);
    const b = [3, 6, 7, 8, 8, 10, 13, 15, 16, 20];
    expect([25, 50, 75, 100].map((p) => percentile(b, p))).toEqual([7, 8, 15, 20]);
    const c = [3, 6, 7, 8, 8, 9, 10, 13, 15, 16, 20];
    expect([25, 50, 75, 100].map((p) => percentile(c, p))).toEqual([7, 9, 15, 20]);
  });

  it('p95 of 1..100 is 95 and p0 is the minimum; input is not reordered', () => {
    const v = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(v, 95)).toBe(95);
    expect(percentile(v, 0)).toBe(1);
    expect(v[0]).toBe(100);
    expect(() => percentile(v, 101)).toThrow(RangeError);
    expect(() => percentile([], 50)).toThrow(RangeError);
  });
});

describe('formatRate', () => {
  it('prints one decimal, and two significant digits below 0.1%', () => {
    expect(formatRate(0)).toBe('0.0%');
    expect(formatRate(1)).toBe('100.0%');
    expect(formatRate(0.14)).toBe('14.0%');
    expect(formatRate(zeroFailureUpperBound(10000))).toBe('0.030%');
  });
});

describe('fisherExact', () => {
  // Reference values from scipy.stats.fisher_exact (two-sided).
  it.each([
    [3, 40, 0, 120, 0.014748029615476473],
    [7, 50, 1, 50, 0.05944608778347597],
    [1, 10, 0, 10, 1],
    [10, 1000, 2, 1000, 0.03801124749285139],
    [0, 5, 5, 5, 0.007936507936507938],
    [30, 3000, 5, 4000, 2.7234689235910573e-7],
    [2, 2, 0, 3, 0.1],
  ])('%i/%i against %i/%i', (fa, na, fb, nb, p) => {
    expect(fisherExact(fa, na, fb, nb)).toBeCloseTo(p, 9);
    expect(fisherExact(fb, nb, fa, na)).toBeCloseTo(p, 9);
  });

  it('no failures anywhere or an empty side: no evidence, p = 1', () => {
    expect(fisherExact(0, 40, 0, 120)).toBe(1);
    expect(fisherExact(0, 0, 3, 10)).toBe(1);
  });

  it('stays finite for large counts (log space)', () => {
    const p = fisherExact(500, 100_000, 400, 100_000);
    expect(p).toBeGreaterThan(0);
    expect(p).toBeLessThan(0.01);
  });

  it('rejects impossible counts', () => {
    expect(() => fisherExact(5, 4, 0, 1)).toThrow(RangeError);
  });
});
