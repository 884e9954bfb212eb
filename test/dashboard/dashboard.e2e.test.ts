import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import { Rig, dashboardModule } from './rig.js';

let module: string;
const rigs: Rig[] = [];

beforeAll(() => {
  module = dashboardModule();
}, 120_000);

afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function open(opts: ConstructorParameters<typeof Rig>[1] = {}): Promise<Rig> {
  const rig = new Rig(module, opts);
  rigs.push(rig);
  await rig.ready();
  await rig.waitScreen('unit', 'the worker list');
  return rig;
}

/** The screen row that starts a worker's line in the list. */
function row(lines: string[], name: string): string {
  return lines.find((l) => new RegExp(`^│[› ] ${name}\\s`).test(l)) ?? '';
}

/** Where `text` is on screen, for reading cell attributes. */
function locate(rig: Rig, text: string): { x: number; y: number } {
  const y = rig.lines().findIndex((l) => l.includes(text));
  if (y < 0) throw new Error(`"${text}" is not on screen:\n${rig.text()}`);
  return { x: rig.lines()[y]!.indexOf(text), y };
}

function cell(rig: Rig, at: { x: number; y: number }) {
  const b = rig.term.buffer.active;
  return b.getLine(b.viewportY + at.y)!.getCell(at.x)!;
}

async function quit(rig: Rig): Promise<number> {
  rig.press('q');
  const { exitCode } = await rig.exit;
  await rig.flush();
  return exitCode;
}

describe('devsup dashboard in a real terminal', () => {
  it('lists the workers, shows STALE then fresh, and restores the terminal on q', async () => {
    const rig = await open();
    const lines = rig.lines();
    expect(row(lines, 'api')).toMatch(/api\s+ready\s+fresh\s+1m0\ds/);
    expect(row(lines, 'web')).toMatch(/web\s+running\s+fresh/);
    expect(row(lines, 'unit')).toMatch(/unit\s+passed 1\.2s\s+fresh.*✔✘✔⊘✔/);
    // Nothing from blessed's terminfo handling leaks onto the screen.
    expect(rig.text()).not.toMatch(/Error on|Terminfo|\bvar v\b/);

    const since = new Date(Date.now() - 5_000).toISOString();
    await rig.send({
      op: 'patch',
      worker: 'web',
      patch: { verdict: 'stale', staleFiles: ['src/a.ts', 'src/b.ts', 'src/c.ts'], staleSince: since },
      event: { type: 'stale', worker: 'web', generation: 1, files: ['src/a.ts', 'src/b.ts', 'src/c.ts'], restarting: false },
    });
    await rig.waitScreen((_, l) => /web\s+running\s+STALE 3 files [5-9]s/.test(row(l, 'web')), 'web STALE with 3 files');
    // The STALE word is drawn bold yellow.
    const stale = cell(rig, locate(rig, 'STALE'));
    expect([stale.isBold() !== 0, stale.isFgPalette(), stale.getFgColor()]).toEqual([true, true, 3]);

    await rig.send({ op: 'patch', worker: 'web', patch: { verdict: 'fresh', staleFiles: [], staleSince: null }, event: { type: 'fresh', worker: 'web', generation: 1 } });
    await rig.waitScreen((_, l) => /web\s+running\s+fresh/.test(row(l, 'web')) && !l.join('').includes('STALE'), 'web fresh again');

    rig.press('q');
    await rig.waitScreen('stopping…');
    const { exitCode } = await rig.exit;
    await rig.flush();
    expect(exitCode).toBe(0);
    expect(rig.calls().map((c) => c.call)).toEqual(expect.arrayContaining(['closed', 'shutdown']));
    expect(rig.leftAltScreen).toBe(true);
    expect(rig.term.buffer.active.type).toBe('normal');
    expect(rig.text()).toContain('harness: dashboard closed (quit), terminal restored');
  });

  it('restarts, stops, starts and clears caches of the selected worker, saying so on the status line', async () => {
    const rig = await open();
    rig.press('j');
    await rig.waitScreen(/┌─ web /, 'web selected');
    rig.press('r');
    await rig.waitCall('restart', ['web']);
    await rig.waitScreen(/restart(ing|ed) web/);
    // The log gets a banner explaining the new generation.
    await rig.waitScreen('↻ generation 2 · restart requested · old tree gone in 120ms');
    await rig.waitScreen((_, l) => /web\s+running\s+fresh\s.*\s1\s*│$/.test(row(l, 'web')), 'one restart counted');

    rig.press('s');
    await rig.waitCall('stop', 'web');
    await rig.waitScreen((t, l) => /web\s+stopped/.test(row(l, 'web')) && t.includes('stopped web'), 'web stopped');
    rig.press('s');
    await rig.waitCall('start', 'web');
    await rig.waitScreen((t, l) => /web\s+running/.test(row(l, 'web')) && t.includes('started web'), 'web started');

    rig.press('c');
    await rig.waitCall('clearCaches', 'web');
    await rig.waitScreen('cleared 3 caches (12 KB)');

    rig.press('a');
    await rig.waitCall('restart', 'all');
    await rig.waitScreen(/restart(ing|ed) all workers/);

    rig.press('?');
    await rig.waitScreen('restart the selected worker', 'the help overlay');
    rig.press(' ');
    await rig.waitScreen((t) => !t.includes('restart the selected worker'), 'the help closed');
    expect(await quit(rig)).toBe(0);
  });

  it('keeps child colours, scrolls, follows and searches the log', async () => {
    const rig = await open();
    const filler = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} filler ${i}`);
    await rig.send({ op: 'lines', worker: 'api', lines: ['needle one', ...filler('a', 200), 'needle two', ...filler('b', 100), '\x1b[31mred alert\x1b[39m and plain'] });
    await rig.waitScreen('red alert and plain');
    const red = cell(rig, locate(rig, 'red alert'));
    expect([red.isFgPalette(), red.getFgColor()]).toEqual([true, 1]);
    const plain = cell(rig, locate(rig, 'and plain'));
    expect(plain.isFgDefault()).toBe(true);

    rig.press('/');
    for (const ch of 'needle') rig.press(ch);
    await rig.waitScreen('/needle', 'the search prompt');
    rig.press('\r');
    await rig.waitScreen('needle two');
    await rig.waitScreen(/┌─ api · scrolled, \d+ newer lines? \(G follows\) · \/needle/);
    const hit = cell(rig, locate(rig, 'needle two'));
    expect([hit.isBgPalette(), hit.getBgColor()]).toEqual([true, 3]);
    rig.press('n');
    await rig.waitScreen('needle one');

    rig.press('G');
    await rig.waitScreen((t) => t.includes('red alert') && !t.includes('scrolled'), 'following the tail again');

    // The mouse wheel over the log scrolls three lines (an SGR mouse report, as xterm sends it).
    rig.press('\x1b[<64;10;15M');
    await rig.waitScreen('scrolled, 3 newer lines');
    rig.press('\x1b[<65;10;15M');
    await rig.waitScreen((t) => t.includes('red alert') && !t.includes('scrolled'), 'following after wheeling back down');

    // Scrolled up, new lines do not move the view; End brings them in.
    rig.press('\x1b[5~');
    await rig.waitScreen('scrolled');
    await rig.send({ op: 'lines', worker: 'api', lines: ['a late line'] });
    await rig.waitScreen(/scrolled, \d+ newer lines?/);
    expect(rig.text()).not.toContain('a late line');
    rig.press('\x1b[F');
    await rig.waitScreen('a late line');

    // Esc cancels a search prompt without searching.
    rig.press('/');
    rig.press('zz');
    await rig.waitScreen('/zz');
    rig.press('\x1b');
    await rig.waitScreen((t) => !t.includes('/zz') && t.includes('? help'), 'the prompt gone');
    expect(rig.text()).not.toContain('not found');
    expect(await quit(rig)).toBe(0);
  });

  it.each([
    [80, 24],
    [60, 20],
  ])('stays readable after a resize to %ix%i', async (cols, rows) => {
    const rig = await open();
    await rig.send({
      op: 'patch',
      worker: 'web',
      patch: { verdict: 'stale', staleFiles: ['a'], staleSince: new Date().toISOString() },
      event: { type: 'stale', worker: 'web', generation: 1, files: ['a'], restarting: false },
    });
    await rig.send({ op: 'lines', worker: 'api', lines: [`a very long line ${'x'.repeat(300)} END`] });
    rig.resize(cols, rows);
    const readable = (lines: string[]): boolean =>
      lines.length === rows &&
      // Boxes exactly as wide as the screen: corners where they belong, nothing wrapped.
      new RegExp(`^┌─ harness ─{${cols - 12}}┐$`).test(lines[0]!) &&
      lines.slice(1, rows - 1).every((l) => l.length === cols && /^[│└┌].*[│┘┐]$/.test(l)) &&
      /^↑↓ select/.test(lines[rows - 1]!) &&
      /api\s+ready/.test(row(lines, 'api')) &&
      /web\s+running\s+STALE 1 file/.test(row(lines, 'web')) &&
      /unit\s+passed/.test(row(lines, 'unit'));
    await rig.waitScreen((_, l) => readable(l), `a clean ${cols}x${rows} layout`);
    expect(rig.text()).not.toContain('END');
    expect(await quit(rig)).toBe(0);
  });

  it('stays responsive through a flood of 200,000 lines, with bounded memory', async () => {
    const rig = await open();
    const before = rig.memory();
    const flood = rig.send<{ ms: number }>({ op: 'flood', worker: 'api', count: 200_000, ms: 3000 }, 60_000);
    let done = false;
    void flood.then(() => (done = true), () => (done = true));
    await rig.waitScreen('flood 1', 'the flood to show');
    const latencies: number[] = [];
    for (let i = 0; !done || latencies.length < 4; i++) {
      const to = i % 2 === 0 ? 'web' : 'api';
      const t0 = Date.now();
      rig.press(i % 2 === 0 ? 'j' : 'k');
      await rig.waitScreen(new RegExp(`┌─ ${to} `), `the ${to} log selected`, 2000);
      latencies.push(Date.now() - t0);
    }
    const { ms } = await flood;
    rig.press('k');
    await rig.waitScreen('flood 199999', 'the last flood line');
    const after = rig.memory();
    // A second flood, as fast as the harness can emit: memory must not keep growing with output.
    const second = await rig.send<{ ms: number }>({ op: 'flood', worker: 'api', count: 200_000, ms: 1 }, 60_000);
    await rig.waitScreen('flood 199999', 'the last line of the second flood');
    const again = rig.memory();
    const stats = await rig.send<{ render: { renders: number; totalMs: number; maxMs: number } }>({ op: 'stats' });
    const mb = (n: number) => Math.round(n / 1024 / 1024);
    console.log(
      `flood: 200000 lines in ${ms} ms, key latency max ${Math.max(...latencies)} ms over ${latencies.length} presses` +
        `; then 200000 lines as fast as possible in ${second.ms} ms (${Math.round(200_000 / (second.ms / 1000))} lines/s)` +
        `; harness RSS ${mb(before.rss)} MB before, ${mb(after.rss)} MB after one flood, ${mb(again.rss)} MB after two, peak ${mb(again.peak)} MB` +
        `; ${stats.render.renders} renders, mean ${(stats.render.totalMs / stats.render.renders).toFixed(2)} ms, max ${stats.render.maxMs.toFixed(1)} ms`,
    );
    expect(Math.max(...latencies)).toBeLessThan(500);
    expect(after.peak).toBeLessThan(before.rss + 150 * 1024 * 1024);
    expect(again.peak).toBeLessThan(after.peak + 40 * 1024 * 1024);
    // Frames are throttled: at most one per 50 ms over the flood, plus key presses.
    expect(stats.render.renders).toBeLessThan((ms / 50) * 1.5 + latencies.length + 60);
    expect(await quit(rig)).toBe(0);
  });

  it('restores the terminal when the process dies of an uncaught exception', async () => {
    const rig = await open();
    await rig.send({ op: 'crash', message: 'boom from the harness' }).catch(() => undefined);
    const { exitCode } = await rig.exit;
    await rig.flush();
    expect(exitCode).not.toBe(0);
    expect(rig.leftAltScreen).toBe(true);
    expect(rig.term.buffer.active.type).toBe('normal');
    // The error is printed on the normal screen, where it stays readable.
    await waitFor(() => rig.text().includes('boom from the harness'), 'the error on the normal screen');
  });

  it('uses 256 colours without printing terminfo garbage under TERM=screen-256color', async () => {
    const rig = await open({ env: { TERM: 'screen-256color' } });
    await rig.send({ op: 'lines', worker: 'api', lines: ['\x1b[38;5;208morange\x1b[39m'] });
    await rig.waitScreen('orange');
    const c = cell(rig, locate(rig, 'orange'));
    expect([c.isFgPalette(), c.getFgColor()]).toEqual([true, 208]);
    expect(rig.text()).not.toMatch(/Error on|plab_norm|\bvar v\b/);
    expect(await quit(rig)).toBe(0);
  });
});
