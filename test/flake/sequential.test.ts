import { describe, expect, it } from 'vitest';
import {
  defaultCap,
  failuresToNotFixed,
  operating,
  runsToFixed,
  sequentialDesign,
  sequentialTracker,
  verdictAt,
} from '../../src/flake/sequential.js';

describe('the sequential rule', () => {
  it('with fixedRate 0 it is the classic rule: 59 passes in a row at 5% and 95%, not fixed at the first failure', () => {
    const d = sequentialDesign(0.05, 0, 0.95);
    expect(runsToFixed(d)).toBe(59);
    // 59 is the smallest n with 0.95^n <= 0.05.
    expect(0.95 ** 59).toBeLessThan(0.05);
    expect(0.95 ** 58).toBeGreaterThan(0.05);
    expect(verdictAt(d, 58, 0)).toBeNull();
    expect(verdictAt(d, 59, 0)).toBe('fixed');
    expect(verdictAt(d, 1, 1)).toBe('not-fixed');
    expect(failuresToNotFixed(d)).toBe(1);
    expect(runsToFixed(d, 1)).toBe(Infinity);
  });

  it('the default alternative (a tenth of the baseline) needs 65 passes, 116 runs with one failure', () => {
    // ceil(ln 20 / ln(0.995/0.95)) = ceil(64.73); one failure costs ln 10 / ln(0.995/0.95) = 49.75 passes.
    const d = sequentialDesign(0.05, 0.005, 0.95);
    expect(runsToFixed(d, 0)).toBe(65);
    expect(runsToFixed(d, 1)).toBe(116);
    expect(runsToFixed(d, 2)).toBe(167);
    expect(failuresToNotFixed(d)).toBe(2);
    expect(verdictAt(d, 64, 0)).toBeNull();
    expect(verdictAt(d, 65, 0)).toBe('fixed');
    expect(verdictAt(d, 115, 1)).toBeNull();
    expect(verdictAt(d, 116, 1)).toBe('fixed');
    // Two failures (-2 ln 10) outweigh up to 34 passes (0.0463 each) before the ratio rises above -ln 20.
    expect(verdictAt(d, 2, 2)).toBe('not-fixed');
    expect(verdictAt(d, 36, 2)).toBe('not-fixed');
    expect(verdictAt(d, 37, 2)).toBeNull();
    expect(defaultCap(d)).toBe(260);
  });

  it('1% baseline at 99%: ceil(ln 100 / ln(0.999/0.99)) = ceil(508.87) = 509', () => {
    expect(runsToFixed(sequentialDesign(0.01, 0.001, 0.99))).toBe(509);
  });

  it('the tracker stops at the first boundary and keeps its verdict', () => {
    const t = sequentialTracker(sequentialDesign(0.05, 0.005, 0.95));
    expect(t.add(true)).toBeNull();
    expect(t.add(true)).toBe('not-fixed');
    expect(t.add(false)).toBe('not-fixed');
    expect(t.runs).toBe(2);
    expect(t.failed).toBe(2);
  });

  it('exact error rates stay within the promise however long it runs (Ville), for several designs', () => {
    for (const [p0, p1, conf] of [
      [0.05, 0.005, 0.95],
      [0.05, 0, 0.95],
      [0.1, 0.02, 0.9],
      [0.02, 0.002, 0.99],
    ] as const) {
      const d = sequentialDesign(p0, p1, conf);
      const cap = 3000;
      const atBaseline = operating(d, p0, cap);
      expect(atBaseline.fixed).toBeLessThanOrEqual(1 - conf);
      // Worse than the baseline is even less likely to pass as fixed.
      expect(operating(d, Math.min(0.9, p0 * 2), cap).fixed).toBeLessThan(atBaseline.fixed);
      if (p1 > 0) expect(operating(d, p1, cap).notFixed).toBeLessThanOrEqual(1 - conf);
      expect(atBaseline.fixed + atBaseline.notFixed + atBaseline.undecided).toBeCloseTo(1, 9);
    }
  });

  it('with fixedRate 0 the chance of "fixed" at the baseline is exactly 0.95^59', () => {
    const o = operating(sequentialDesign(0.05, 0, 0.95), 0.05, 500);
    expect(o.fixed).toBeCloseTo(0.95 ** 59, 12);
    expect(o.undecided).toBe(0);
  });

  it('the default cap leaves under 10% undecided even at the hardest rate', () => {
    const d = sequentialDesign(0.05, 0.005, 0.95);
    let worst = 0;
    for (let r = 0.001; r < 0.05; r += 0.001) worst = Math.max(worst, operating(d, r, defaultCap(d)).undecided);
    expect(worst).toBeGreaterThan(0.01);
    expect(worst).toBeLessThan(0.1);
  });

  it('refuses designs that make no sense', () => {
    expect(() => sequentialDesign(0, 0, 0.95)).toThrow(RangeError);
    expect(() => sequentialDesign(0.05, 0.05, 0.95)).toThrow(RangeError);
    expect(() => sequentialDesign(0.05, 0.01, 1)).toThrow(RangeError);
  });
});
