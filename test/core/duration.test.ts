import { describe, expect, it } from 'vitest';
import { formatDuration } from '../../src/core/duration.js';

describe('formatDuration', () => {
  it('rounds once, on the unit it shows', () => {
    const cases: [number, string][] = [
      [-5, '0ms'],
      [0, '0ms'],
      [850, '850ms'],
      [999.4, '999ms'],
      [999.6, '1.0s'],
      [12_345, '12.3s'],
      [59_940, '59.9s'],
      [59_960, '1m00s'],
      [125_000, '2m05s'],
      [3_599_600, '1h00m'],
      [11_100_000, '3h05m'],
      [86_370_000, '1d00h'],
      [2 * 86_400_000 + 4 * 3_600_000, '2d04h'],
    ];
    expect(cases.map(([ms]) => formatDuration(ms))).toEqual(cases.map(([, text]) => text));
  });
});
