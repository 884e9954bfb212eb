import { describe, expect, it } from 'vitest';
import { parseDurationText } from '../../src/core/duration.js';
import { parseDuration } from '../../src/cli/parse.js';
import { ConfigSchema } from '../../src/config/schema.js';
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

describe('durations', () => {
  it.each([
    ['500', 500],
    ['0', 0],
    ['500ms', 500],
    ['2s', 2000],
    ['1.5s', 1500],
    ['1m', 60_000],
    ['1h', 3_600_000],
    [' 30s ', 30_000],
    ['0.4', 0],
  ])('%j is %i ms', (text, ms) => {
    expect(parseDurationText(text)).toBe(ms);
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 's', '2 s', '-1', '-2s', '2sec', '1d', '1e3', '2S', '0x10', '1,5s', '.5s', '2ms5'])('%j is refused', (text) => {
    expect(parseDurationText(text)).toBeUndefined();
    expect(() => parseDuration(text)).toThrow(/expected a duration such as 500, 500ms, 2s, 1m/);
  });

  it('reads the same way in the config, as milliseconds after parsing', () => {
    const parsed = ConfigSchema.parse({ defaults: { settle: '250ms', grace: 2000 }, workers: [{ name: 'a', cmd: 'x', grace: '1.5s' }] });
    expect([parsed.defaults?.settle, parsed.defaults?.grace, parsed.workers[0]?.grace]).toEqual([250, 2000, 1500]);
  });
});