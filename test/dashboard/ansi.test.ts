import { describe, expect, it } from 'vitest';
import { MAX_LINE, PANE_CUT_MARK, fit, sanitizeLine, stripSgr, truncate, visibleWidth } from '../../src/views/dashboard/ansi.js';

describe('sanitizeLine', () => {
  it('keeps colours and drops everything that would move the cursor or retitle the terminal', () => {
    const line = '\x1b[2K\x1b[1G\x1b[31mred\x1b[0m \x1b]0;title\x07done\x1b[?25l \x1b(Bx\x07';
    expect(sanitizeLine(line)).toBe('\x1b[31mred\x1b[0m done x');
  });

  it('shows what a terminal would after carriage returns', () => {
    expect(sanitizeLine('progress 10%\rprogress 50%\rprogress 100%')).toBe('progress 100%');
    expect(sanitizeLine('windows line\r\n')).toBe('windows line');
  });

  it('expands tabs to eight-column stops, ignoring colour codes', () => {
    expect(sanitizeLine('a\tb')).toBe(`a${' '.repeat(7)}b`);
    expect(sanitizeLine('\x1b[1mab\x1b[0m\tc')).toBe(`\x1b[1mab\x1b[0m${' '.repeat(6)}c`);
  });

  it('bounds a huge line and says it was cut', () => {
    expect(sanitizeLine('y'.repeat(1_000_000))).toBe(`${'y'.repeat(MAX_LINE)}${PANE_CUT_MARK}`);
    expect(sanitizeLine('y'.repeat(MAX_LINE))).toBe('y'.repeat(MAX_LINE));
  });

  it('drops C1 controls, which a UTF-8 terminal would take as CSI or as the start of a string', () => {
    expect(sanitizeLine('a\u009b2Jb\u009ec\u0090d\u0085e')).toBe('a2Jbcde');
    expect(sanitizeLine('caf\u00e9 \u00a0ok')).toBe('caf\u00e9 \u00a0ok');
  });

  it('returns a plain line as it is', () => {
    const s = 'GET /health 200 1.2ms';
    expect(sanitizeLine(s)).toBe(s);
  });
});

describe('truncate and fit', () => {
  it('cuts by columns, keeps escapes, and closes colours', () => {
    expect(truncate('\x1b[31mabcdef\x1b[39m', 3)).toBe('\x1b[31mabc\x1b[0m');
    expect(truncate('abcdef', 3)).toBe('abc');
    expect(visibleWidth(truncate('\x1b[1;33mSTALE 3 files\x1b[0m', 5))).toBe(5);
  });

  it('counts wide characters as two columns', () => {
    expect(visibleWidth('日本語')).toBe(6);
    expect(truncate('日本語', 5)).toBe('日本');
    expect(visibleWidth('✔✘⊘')).toBe(3);
  });

  it('pads to an exact width', () => {
    expect(fit('ab', 4)).toBe('ab  ');
    expect(fit('ab', 4, 'right')).toBe('  ab');
    expect(stripSgr(fit('\x1b[32mfresh\x1b[0m', 8))).toBe('fresh   ');
  });
});

describe('wrapLine', () => {
  it('splits plain text into rows of the width', async () => {
    const { wrapLine } = await import('../../src/views/dashboard/ansi.js');
    expect(wrapLine('abcdefgh', 3)).toEqual(['abc', 'def', 'gh']);
    expect(wrapLine('', 3)).toEqual(['']);
  });

  it('closes a colour at each split and opens it again on the next row, wide characters whole', async () => {
    const { wrapLine, visibleWidth } = await import('../../src/views/dashboard/ansi.js');
    const rows = wrapLine('\x1b[31mredred\x1b[0m ok', 4);
    expect(rows).toEqual(['\x1b[31mredr\x1b[0m', '\x1b[31med\x1b[0m o', 'k']);
    const wide = wrapLine('日本語です', 5);
    expect(wide).toEqual(['日本', '語で', 'す']);
    expect(wide.every((r) => visibleWidth(r) <= 5)).toBe(true);
  });
});
