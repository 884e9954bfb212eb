import { describe, expect, it } from 'vitest';
import { safeChildText } from '../../src/views/child-text.js';

// What a test run or a dev server writes to take over its terminal.
const CLEAR = '\x1b[2J';
const HOME = '\x1b[H';
const TITLE = '\x1b]0;pwned\x07';
const RESET = '\x1bc';
const ERASE_LINE = '\x1b[2K';

describe('safeChildText', () => {
  it('drops screen clears, cursor moves, resets and window titles, keeping colours for a terminal', () => {
    const line = `${CLEAR}${HOME}${TITLE}${RESET}${ERASE_LINE}\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[0m`;
    expect(safeChildText(line, { colour: true })).toBe('\x1b[31mred\x1b[0m and \x1b[1;32mbold green\x1b[0m');
  });

  it('drops the colours too where colour is not wanted', () => {
    expect(safeChildText(`${TITLE}\x1b[31mred\x1b[0m ${CLEAR}done`, { colour: false })).toBe('red done');
    expect(safeChildText('\x1b[33mwarn\x1b[39m', { colour: false })).toBe('warn');
  });

  it('drops a title ended by ST, a DCS string, and C1 controls', () => {
    expect(safeChildText('a\x1b]2;t\x1b\\b\x1bPq#0\x1b\\c\u009b2Jd', { colour: true })).toBe('abc2Jd');
  });

  it('keeps tabs unless asked to expand them, and shows what a carriage return leaves', () => {
    expect(safeChildText('a\tb', { colour: true })).toBe('a\tb');
    expect(safeChildText('a\tb', { colour: true, expandTabs: true })).toBe(`a${' '.repeat(7)}b`);
    expect(safeChildText('10%\r50%\r100%', { colour: false })).toBe('100%');
  });

  it('returns a plain line as it is', () => {
    const s = 'GET /api 200 12ms café ✓';
    expect(safeChildText(s, { colour: true })).toBe(s);
    expect(safeChildText(s, { colour: false })).toBe(s);
  });
});
