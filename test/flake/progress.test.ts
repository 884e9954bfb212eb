import { Writable } from 'node:stream';
import xterm from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { createProgress, formatEta, progressLine } from '../../src/flake/progress.js';
import type { FlakeProgress } from '../../src/flake/runner.js';

function sink(): { out: Writable; chunks: string[] } {
  const chunks: string[] = [];
  const out = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { out, chunks };
}

/** What a terminal shows after this output: rows of text, trailing blanks trimmed. */
async function screen(text: string, cols = 80): Promise<{ rows: string[]; cursorY: number }> {
  const term = new xterm.Terminal({ cols, rows: 6, allowProposedApi: true });
  await new Promise<void>((r) => term.write(text, r));
  const buf = term.buffer.active;
  const rows = Array.from({ length: 6 }, (_, y) => buf.getLine(y)?.translateToString(true) ?? '');
  const cursorY = buf.cursorY;
  term.dispose();
  return { rows, cursorY };
}

function steps(total: number, upTo = total): FlakeProgress[] {
  return Array.from({ length: upTo + 1 }, (_, done) => ({
    done,
    failed: Math.floor(done / 10),
    running: Math.min(2, total - done),
    etaMs: done === 0 ? null : (total - done) * 1000,
  }));
}

describe('progressLine', () => {
  it('draws the bar, counts and ETA', () => {
    expect(progressLine({ done: 23, failed: 2, running: 2, etaMs: 12_000 }, 50)).toBe(
      '[#####.....] 23/50 runs, 2 failed, ETA 12s',
    );
    expect(progressLine({ done: 0, failed: 0, running: 2, etaMs: null }, 50)).toBe('[..........] 0/50 runs, 0 failed');
    // Not full until it is complete, and no ETA once it is.
    expect(progressLine({ done: 49, failed: 0, running: 1, etaMs: 500 }, 50)).toBe(
      '[#########.] 49/50 runs, 0 failed, ETA 1s',
    );
    expect(progressLine({ done: 50, failed: 3, running: 0, etaMs: 0 }, 50)).toBe('[##########] 50/50 runs, 3 failed');
  });

  it('formats ETAs in whole seconds, rounded up', () => {
    expect([200, 1000, 12_000, 59_500, 65_000, 3_700_000].map(formatEta)).toEqual([
      '1s',
      '1s',
      '12s',
      '1m00s',
      '1m05s',
      '1h01m',
    ]);
  });
});

describe('createProgress without a TTY', () => {
  it('prints a plain line per 10% of progress, no carriage returns', () => {
    const { out, chunks } = sink();
    const r = createProgress({ out, isTTY: false, total: 50 });
    for (const p of steps(50)) r.update(p);
    r.finish();
    const text = chunks.join('');
    expect(text).not.toContain('\r');
    expect(text).not.toContain('\x1b');
    const lines = text.split('\n').slice(0, -1);
    expect(lines.map((l) => l.split(' ')[1])).toEqual(
      ['5', '10', '15', '20', '25', '30', '35', '40', '45', '50'].map((d) => `${d}/50`),
    );
    expect(lines[0]).toBe('[#.........] 5/50 runs, 0 failed, ETA 45s');
    expect(lines.at(-1)).toBe('[##########] 50/50 runs, 5 failed');
  });

  it('prints at most one line per update for small totals, and the last state on finish', () => {
    const { out, chunks } = sink();
    const r = createProgress({ out, isTTY: false, total: 7 });
    for (const p of steps(7)) r.update(p);
    expect(chunks).toHaveLength(7);

    const stopped = sink();
    const s = createProgress({ out: stopped.out, isTTY: false, total: 50 });
    for (const p of steps(50, 12)) s.update(p);
    s.finish();
    s.finish();
    expect(stopped.chunks).toEqual([
      '[#.........] 5/50 runs, 0 failed, ETA 45s\n',
      '[##........] 10/50 runs, 1 failed, ETA 40s\n',
      '[##........] 12/50 runs, 1 failed, ETA 38s\n',
    ]);
  });

  it('prints nothing if nothing happened', () => {
    const { out, chunks } = sink();
    const r = createProgress({ out, isTTY: false, total: 5 });
    r.update({ done: 0, failed: 0, running: 2, etaMs: null });
    r.finish();
    expect(chunks).toEqual([]);
  });
});

describe('createProgress on a TTY', () => {
  it('rewrites one line in place and ends it on finish', async () => {
    const { out, chunks } = sink();
    const r = createProgress({ out, isTTY: true, total: 50 });
    for (const p of steps(50)) r.update(p);
    const before = chunks.join('');
    expect(before).not.toContain('\n');
    expect(chunks.every((c) => c.startsWith('\r'))).toBe(true);
    r.finish();
    const shown = await screen(chunks.join(''));
    // The last state alone on the first row, with nothing left over from the longer lines with ETA.
    expect(shown.rows).toEqual(['[##########] 50/50 runs, 5 failed', '', '', '', '', '']);
    expect(shown.cursorY).toBe(1);
  });

  it('skips redraws that would not change the line', () => {
    const { out, chunks } = sink();
    const r = createProgress({ out, isTTY: true, total: 10 });
    const p = { done: 3, failed: 0, running: 2, etaMs: 4000 };
    r.update(p);
    r.update({ ...p });
    expect(chunks).toHaveLength(1);
  });

  it('cuts the line to the terminal width so it never wraps', async () => {
    const { out, chunks } = sink();
    const r = createProgress({ out, isTTY: true, total: 50, columns: 20 });
    for (const p of steps(50, 30)) r.update(p);
    const shown = await screen(chunks.join(''), 20);
    // One column short of the width: a character in the last column leaves some terminals about to wrap.
    expect(chunks.at(-1)).toBe('\r[######....] 30/50 \x1b[K');
    expect(shown.rows[0]).toBe('[######....] 30/50 ');
    expect(shown.rows[1]).toBe('');
  });
});
