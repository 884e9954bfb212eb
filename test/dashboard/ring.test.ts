import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/core/ring.js';

describe('Ring', () => {
  it('keeps everything until it is full', () => {
    const r = new Ring<number>(4);
    for (const n of [1, 2, 3]) r.push(n);
    expect([r.start, r.end, r.length]).toEqual([0, 3, 3]);
    expect(r.slice(0, 10)).toEqual([1, 2, 3]);
    expect(r.at(2)).toBe(3);
    expect(r.at(3)).toBeUndefined();
  });

  it('drops the oldest entries once full and never holds more than its capacity', () => {
    const r = new Ring<number>(4);
    for (let n = 0; n < 10; n++) r.push(n);
    expect(r.length).toBe(4);
    expect([r.start, r.end]).toEqual([6, 10]);
    expect(r.slice(r.start, r.end)).toEqual([6, 7, 8, 9]);
    expect(r.at(5)).toBeUndefined();
    expect(r.at(6)).toBe(6);
  });

  it('keeps absolute positions across many wraps', () => {
    const r = new Ring<string>(3);
    for (let n = 0; n < 1000; n++) r.push(`line ${n}`);
    expect(r.at(999)).toBe('line 999');
    expect(r.at(997)).toBe('line 997');
    expect(r.at(996)).toBeUndefined();
    // Slices are clamped to what is still held.
    expect(r.slice(0, 998)).toEqual(['line 997']);
    expect(r.slice(998, 5000)).toEqual(['line 998', 'line 999']);
  });

  it('clears without resetting positions', () => {
    const r = new Ring<number>(3);
    for (let n = 0; n < 5; n++) r.push(n);
    r.clear();
    expect([r.start, r.end, r.length]).toEqual([5, 5, 0]);
    expect(r.at(4)).toBeUndefined();
    r.push(42);
    expect(r.slice(0, 100)).toEqual([42]);
  });

  it('rejects a capacity that is not a positive integer', () => {
    expect(() => new Ring(0)).toThrow(RangeError);
    expect(() => new Ring(1.5)).toThrow(RangeError);
  });
});

describe('Ring.last', () => {
  it('returns the newest entries, oldest first, within what is held', () => {
    const r = new Ring<number>(3);
    expect(r.last(2)).toEqual([]);
    for (let i = 1; i <= 5; i++) r.push(i);
    expect(r.last(2)).toEqual([4, 5]);
    expect(r.last(10)).toEqual([3, 4, 5]);
    expect(r.last(0)).toEqual([]);
  });
});

describe('Ring with a weight limit', () => {
  it('drops the oldest entries past the weight, keeps positions, and always keeps the newest', () => {
    const r = new Ring<string>(100, 10);
    for (const s of ['aaa', 'bbb', 'ccc']) r.push(s, s.length);
    expect([r.start, r.end, r.weight]).toEqual([0, 3, 9]);
    r.push('dddd', 4);
    expect([r.start, r.end, r.weight]).toEqual([1, 4, 10]);
    expect(r.at(0)).toBeUndefined();
    expect(r.slice(0, 10)).toEqual(['bbb', 'ccc', 'dddd']);
    r.push('x'.repeat(50), 50);
    expect(r.slice(0, 10)).toEqual(['x'.repeat(50)]);
    expect([r.start, r.end, r.weight]).toEqual([4, 5, 50]);
    r.push('e', 1);
    expect([r.start, r.weight]).toEqual([5, 1]);
  });

  it('counts weight right when entries fall off by count, and after clear', () => {
    const r = new Ring<number>(3, 1000);
    for (let i = 0; i < 10; i++) r.push(i, 10);
    expect([r.length, r.weight]).toEqual([3, 30]);
    r.clear();
    expect([r.length, r.weight]).toEqual([0, 0]);
    r.push(1, 5);
    expect([r.start, r.length, r.weight, r.at(10)]).toEqual([10, 1, 5, 1]);
  });

  it('rejects a limit that is not positive', () => {
    expect(() => new Ring(3, 0)).toThrow(RangeError);
    expect(() => new Ring(3, Number.NaN)).toThrow(RangeError);
  });
});
