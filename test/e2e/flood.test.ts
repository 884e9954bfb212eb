import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import xtermHeadless from '@xterm/headless';
import * as pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/devsup.js';
import { childKeeper, isAlive, trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const { Terminal } = xtermHeadless;
const kids = childKeeper();
let ptys: pty.IPty[] = [];
afterEach(async () => {
  for (const p of ptys) {
    try {
      p.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
  ptys = [];
  await kids.killAll();
});

// 60 MB of short lines as fast as the pipe takes them, then one last line; writes are synchronous,
// so the child finishes only if its output is read.
const FLOOD = `const fs = require('fs');
const pad = 'x'.repeat(56);
let seq = 0;
for (let mb = 0; mb < 60; mb++) {
  let text = '';
  while (text.length < 1e6) text += 'flood ' + String(seq++).padStart(9, '0') + ' ' + pad + '\\n';
  fs.writeSync(1, text);
}
fs.writeSync(1, 'flood done\\n');
fs.writeFileSync('finished', String(seq));
`;

function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}

describe('a flood of output', () => {
  it('--no-tui never holds the child back for a reader that stalls: lines are dropped, counted, and kept by logs', { timeout: 120_000 }, async () => {
    const root = tempDir();
    writeTree(root, { 'flood.js': FLOOD, 'src/a.txt': 'x' });
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ name: 'flood', cmd: ['node', 'flood.js'], kind: 'task', watch: ['src'] }] }));
    const sup = kids.keep(spawn(process.execPath, ['--', BIN, 'up', '--no-tui'], { cwd: root, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'inherit'] }));
    // Nobody reads stdout until the child has finished: with back-pressure it never would.
    sup.stdout!.pause();
    await waitFor(() => existsSync(join(root, 'finished')), 'the flooding child to finish while its output is not read', 90_000, 100);
    // Before the fix, 60 MB queued for the reader took devsup's memory past 300 MB.
    expect(peakRssMb(sup.pid!)).toBeLessThan(180);

    let text = '';
    sup.stdout!.setEncoding('utf8').on('data', (d: string) => (text = (text + d).slice(-100_000)));
    sup.stdout!.resume();
    const m = await waitFor(() => /\[devsup\] flood ([\d,]+) lines of output not shown: the reader of this output fell behind/.exec(text), 'the marker counting dropped lines', 30_000);
    expect(Number(m[1]!.replace(/,/g, ''))).toBeGreaterThan(100_000);

    // What the docs promise to keep is kept: the newest lines, in `devsup logs` and the task log.
    const logs = spawnSync(process.execPath, ['--', BIN, 'logs', 'flood', '-n', '3'], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(logs.stdout.trim().split('\n').at(-1)).toContain('flood done');
    const dir = join(root, '.devsup', 'logs', 'flood');
    await waitFor(() => existsSync(dir) && readdirSync(dir).some((n) => n.endsWith('.log')), 'the task log', 20_000);
    const log = readFileSync(join(dir, readdirSync(dir).find((n) => n.endsWith('.log'))!), 'utf8').trim().split('\n');
    expect(log.at(-1)).toBe('flood done');
    expect(log.at(-2)).toContain(`flood ${String(Number(readFileSync(join(root, 'finished'), 'utf8')) - 1).padStart(9, '0')}`);
    expect(log[0]).toMatch(/^\[devsup\] \d+ earlier lines not kept$/);
    expect(log).toHaveLength(2001);
  });

  it('the dashboard answers keys through a flood of lines, a 5 MB line and random bytes, and none of it reaches the terminal raw', { timeout: 120_000 }, async () => {
    const root = tempDir();
    // Synchronous writes, retried if the pipe is ever non-blocking: the flood goes on whatever the reader does.
    const child = `const fs = require('fs'); const c = require('crypto');
const nasty = Buffer.from('\\x1b[?1049l\\x1b[2J\\x1b]0;pwned\\x07\\xc2\\x9b2J\\xc2\\x9e\\x00\\xff', 'latin1');
const put = (b) => { b = Buffer.from(b); for (let o = 0; o < b.length; ) { try { o += fs.writeSync(1, b, o); } catch (e) { if (e.code !== 'EAGAIN') throw e; } } };
fs.writeFileSync('pid', String(process.pid));
put(Buffer.alloc(5 * 1024 * 1024, 'y'));
put('\\nafter the long line\\n');
let seq = 0;
setInterval(() => {
  let text = '';
  while (text.length < 200000) text += 'line ' + seq++ + ' ' + 'x'.repeat(60) + '\\n';
  put(text);
  put(Buffer.concat([c.randomBytes(20000), nasty]));
}, 10);
`;
    writeTree(root, { 'flood.js': child, 'src/a.txt': 'x' });
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ name: 'flood', cmd: ['node', 'flood.js'], watch: ['src'] }] }));
    const term = new Terminal({ cols: 100, rows: 30, allowProposedApi: true });
    const p = pty.spawn(process.execPath, [BIN, 'up'], { name: 'xterm-256color', cols: 100, rows: 30, cwd: root, env: { ...process.env, TERM: 'xterm-256color', LC_ALL: 'C.UTF-8' } as Record<string, string> });
    ptys.push(p);
    trackPid(p.pid);
    let raw = '';
    let exited: number | undefined;
    p.onExit((e) => (exited = e.exitCode));
    p.onData((d) => {
      raw = (raw + d).slice(-2_000_000);
      term.write(d);
    });
    const screen = async () => {
      await new Promise<void>((r) => term.write('', r));
      const b = term.buffer.active;
      return Array.from({ length: term.rows }, (_, y) => b.getLine(b.viewportY + y)?.translateToString(true) ?? '').join('\n');
    };
    const shows = (re: RegExp, what: string) => waitFor(async () => re.test(await screen()), what, 15_000);

    await shows(/line \d+ x{20}/, 'the flood in the log pane');
    const childPid = Number(readFileSync(join(root, 'pid'), 'utf8'));
    trackPid(childPid);
    for (let i = 0; i < 5; i++) {
      p.write('?');
      await shows(/any key closes it/, 'the help, opened while flooding');
      p.write('x');
      await waitFor(async () => !/any key closes it/.test(await screen()), 'the help to close while flooding', 15_000);
    }
    const seen = await screen();
    expect(seen).toMatch(/flood/);
    expect(seen).not.toContain('pwned');
    // The child's attempts to leave the alternate screen, clear it or start C1 sequences never pass.
    expect(raw).not.toContain('\x1b[?1049l');
    expect(raw).not.toMatch(/[\u0090\u009b\u009d\u009e\u009f]/);
    expect(peakRssMb(p.pid)).toBeLessThan(200);

    p.write('q');
    await waitFor(() => exited !== undefined, 'devsup to quit on q', 20_000);
    expect(exited).toBe(0);
    expect(isAlive(childPid)).toBe(false);
  });
});
