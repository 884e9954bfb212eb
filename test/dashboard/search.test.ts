import { describe, expect, it } from 'vitest';
import { Ring } from '../../src/core/ring.js';
import { WorkerLog } from '../../src/views/dashboard/log-pane.js';
import { LogSearch, findMatch, highlightLine, makeQuery, matchesIn } from '../../src/views/dashboard/search.js';

function ringOf(lines: string[], capacity = 100): Ring<string> {
  const r = new Ring<string>(capacity);
  for (const l of lines) r.push(l);
  return r;
}

describe('search', () => {
  it('is case-insensitive unless the query has a capital letter', () => {
    expect(matchesIn('Error: error ERROR', makeQuery('error'))).toEqual([0, 7, 13]);
    expect(matchesIn('Error: error ERROR', makeQuery('ERROR'))).toEqual([13]);
  });

  it('matches the text, not the colour codes around it', () => {
    const r = ringOf(['plain', '\x1b[31mfa\x1b[39mil here', 'x']);
    expect(findMatch(r, makeQuery('fail'), 2, 'older')).toEqual({ pos: 1, wrapped: false });
    // "31m" is inside an escape sequence, not text.
    expect(findMatch(r, makeQuery('31m'), 2, 'older')).toBeNull();
  });

  it('finds the nearest match in either direction and wraps around once', () => {
    const lines = Array.from({ length: 20 }, (_, i) => (i === 3 || i === 12 ? `needle ${i}` : `hay ${i}`));
    const r = ringOf(lines);
    const q = makeQuery('needle');
    expect(findMatch(r, q, 19, 'older')).toEqual({ pos: 12, wrapped: false });
    expect(findMatch(r, q, 11, 'older')).toEqual({ pos: 3, wrapped: false });
    expect(findMatch(r, q, 2, 'older')).toEqual({ pos: 12, wrapped: true });
    expect(findMatch(r, q, 4, 'newer')).toEqual({ pos: 12, wrapped: false });
    expect(findMatch(r, q, 13, 'newer')).toEqual({ pos: 3, wrapped: true });
    expect(findMatch(r, makeQuery('absent'), 19, 'older')).toBeNull();
  });

  it('only searches lines still in the ring, by absolute position', () => {
    const r = ringOf(
      Array.from({ length: 50 }, (_, i) => `line ${i}`),
      10,
    );
    expect(findMatch(r, makeQuery('line 45'), 49, 'older')).toEqual({ pos: 45, wrapped: false });
    expect(findMatch(r, makeQuery('line 5'), 49, 'older')).toBeNull();
    // A start position that has fallen off is clamped into the ring.
    expect(findMatch(r, makeQuery('line 4'), 0, 'newer')?.pos).toBe(40);
  });

  it('marks every occurrence in a line cut to the width', () => {
    const out = highlightLine('\x1b[32mok\x1b[39m foo and foo again', makeQuery('foo'), 14);
    expect(out).toBe('ok \x1b[30;43mfoo\x1b[39;49m and \x1b[30;43mfoo\x1b[39;49m');
  });
});

describe('LogSearch', () => {
  it('starts at the bottom of the view, steps with n and N, and reveals each hit', () => {
    const log = new WorkerLog(1000);
    for (let i = 0; i < 300; i++) log.push(i % 100 === 50 ? `match ${i}` : `line ${i}`);
    const s = new LogSearch();
    expect(s.start('match', log, 10)).toBeNull();
    expect(s.active?.current).toBe(250);
    expect(log.follow).toBe(false);
    expect(s.next('older', log, 10)).toBeNull();
    expect(s.active?.current).toBe(150);
    expect(s.next('newer', log, 10)).toBeNull();
    expect(s.active?.current).toBe(250);
    expect(s.next('newer', log, 10)).toEqual({ text: 'search wrapped around the newest line', tone: 'info' });
    expect(s.active?.current).toBe(50);
    expect(log.firstVisible(10)).toBe(50 - 3);
  });

  it('says when nothing matches, or when there is no search to continue', () => {
    const log = new WorkerLog(10);
    log.push('only line');
    const s = new LogSearch();
    expect(s.next('older', log, 5)?.text).toBe('no search yet: press / to search');
    expect(s.start('absent', log, 5)).toEqual({ text: 'not found: absent', tone: 'error' });
    expect(log.follow).toBe(true);
  });
});
