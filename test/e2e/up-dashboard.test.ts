import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import xtermHeadless from '@xterm/headless';
import * as pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN } from '../helpers/devsup.js';
import { isAlive, trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const { Terminal } = xtermHeadless;

/** The real `devsup up` in a pseudo-terminal, its screen read back as text. */
class Screen {
  readonly term: InstanceType<typeof Terminal>;
  readonly proc: pty.IPty;
  readonly exit: Promise<number>;
  private raw = '';

  constructor(cwd: string, cols = 100, rows = 30) {
    this.term = new Terminal({ cols, rows, allowProposedApi: true });
    this.proc = pty.spawn(process.execPath, [BIN, 'up'], { name: 'xterm-256color', cols, rows, cwd, env: { ...process.env, TERM: 'xterm-256color' } as Record<string, string> });
    trackPid(this.proc.pid);
    this.proc.onData((d) => {
      this.raw += d;
      this.term.write(d);
    });
    this.exit = new Promise((r) => this.proc.onExit((e) => r(e.exitCode)));
    void this.exit.then((code) => (this.exitedWith = code));
  }

  exitedWith: number | undefined;

  text(): string {
    const b = this.term.buffer.active;
    return Array.from({ length: this.term.rows }, (_, y) => b.getLine(b.viewportY + y)?.translateToString(true) ?? '').join('\n');
  }

  async waitFor(re: RegExp, what: string, timeoutMs = 10_000): Promise<void> {
    await waitFor(
      async () => {
        await new Promise<void>((r) => this.term.write('', r));
        return re.test(this.text());
      },
      `${what}\n--- screen ---\n${this.text()}`,
      timeoutMs,
    );
  }

  row(name: string): string {
    return this.text().split('\n').find((l) => new RegExp(`^.[› ] ${name}\\s`).test(l)) ?? '';
  }

  get rawOutput(): string {
    return this.raw;
  }
}

let screens: Screen[] = [];
afterEach(async () => {
  for (const s of screens) {
    try {
      s.proc.kill('SIGTERM');
    } catch {
      /* gone */
    }
    await Promise.race([s.exit, new Promise((r) => setTimeout(r, 5000))]);
  }
  screens = [];
});

const exitCode = (s: Screen) => (s.exitedWith === undefined ? undefined : { code: s.exitedWith });

const SERVICE = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('hello from ' + process.env.DEVSUP_GENERATION + ' pid=' + process.pid);";

describe('devsup up dashboard (real pseudo-terminal)', () => {
  // Many steps, each bounded by its own wait: the whole may take long on a loaded machine.
  it('shows STALE then fresh, restarts, stops, searches and quits leaving nothing running', { timeout: 90_000 }, async () => {
    const root = tempDir();
    writeTree(root, { 'a/a.mjs': SERVICE, 'b/b.mjs': SERVICE, 'b/keep.txt': 'x' });
    writeFileSync(
      join(root, 'devsup.config.json'),
      JSON.stringify({
        workers: [
          { name: 'alpha', cmd: ['node', 'a.mjs'], cwd: 'a', restart: 'never' },
          { name: 'beta', cmd: ['node', 'b.mjs'], cwd: 'b' },
        ],
      }),
    );
    const s = new Screen(root);
    screens.push(s);
    await s.waitFor(/alpha\s+ready/, 'alpha ready');
    await s.waitFor(/beta\s+ready/, 'beta ready');
    await s.waitFor(/hello from 1/, 'alpha output in the log pane');
    const pidOf = (name: string) => Number(/ready\s+\S+\s+\S+\s+(\d+)/.exec(s.row(name))?.[1]);
    const alphaPid = pidOf('alpha');
    expect(alphaPid).toBeGreaterThan(0);

    // restart: never keeps alpha running on old code, so STALE stays until `r`.
    writeFileSync(join(root, 'a/a.mjs'), `${SERVICE}\n// edited`);
    await waitFor(() => /STALE/.test(s.row('alpha')), `alpha STALE\n${s.text()}`);
    s.proc.write('r');
    await s.waitFor(/hello from 2/, 'generation 2 of alpha after r');
    await waitFor(() => /fresh/.test(s.row('alpha')), `alpha fresh again\n${s.text()}`);
    expect(isAlive(alphaPid)).toBe(false);

    s.proc.write('j');
    await waitFor(() => s.row('beta').startsWith('│›'), `beta selected\n${s.text()}`);
    s.proc.write('s');
    await waitFor(() => /stopped|idle/.test(s.row('beta')), `beta stopped\n${s.text()}`);
    s.proc.write('s');
    await waitFor(() => /ready/.test(s.row('beta')), `beta started again\n${s.text()}`);

    s.proc.write('/');
    s.proc.write('no-such-line\r');
    await s.waitFor(/not found: no-such-line/, 'a search without a match says so');
    s.proc.write('\x1b/hello from\r');
    await s.waitFor(/^(?![\s\S]*not found: hello)[\s\S]*hello from/, 'a search with a match');

    s.proc.write('\x1b');
    s.proc.resize(80, 24);
    s.term.resize(80, 24);
    const borders = () => s.text().split('\n').filter((l) => l.startsWith('┌') || l.startsWith('└'));
    await waitFor(() => borders().length >= 2 && borders().every((l) => l.length === 80), `borders 80 wide after a resize\n${s.text()}`);
    expect(s.row('alpha')).toMatch(/fresh/);

    const pids = [pidOf('alpha'), pidOf('beta')].filter((p) => p > 0);
    s.proc.write('q');
    expect(await waitFor(() => exitCode(s), `exit after q\n${s.text()}`)).toEqual({ code: 0 });
    expect(s.rawOutput).toContain('\x1b[?1049l');
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('kills every tree at once on a second Ctrl-C while they stop, instead of waiting out the grace', { timeout: 60_000 }, async () => {
    const root = tempDir();
    const stubborn = fileURLToPath(new URL('../fixtures/stubborn.mjs', import.meta.url));
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ name: 'stubborn', cmd: ['node', stubborn], grace: '1m' }] }));
    const s = new Screen(root);
    screens.push(s);
    await s.waitFor(/READY pid=\d+ grandchild=\d+/, 'the stubborn child ready');
    const [, child, grandchild] = /READY pid=(\d+) grandchild=(\d+)/.exec(s.text())!.map(Number);
    trackPid(child!);
    trackPid(grandchild!);
    s.proc.write('\x03');
    await s.waitFor(/press q or Ctrl-C again to kill now/, 'the first Ctrl-C says how to kill now');
    await s.waitFor(/IGNORED SIGTERM/, 'the polite signal ignored');
    const t0 = Date.now();
    s.proc.write('\x03');
    await waitFor(() => !isAlive(child!) && !isAlive(grandchild!), `both gone after the second Ctrl-C\n${s.text()}`, 10_000);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await waitFor(() => exitCode(s), `exit after the second Ctrl-C\n${s.text()}`, 10_000);
  });
});
