import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

const APP = "console.log('HELLO pid=' + process.pid); setInterval(() => {}, 1000);";

function run(root: string, extra: string[]): DevsupProcess {
  const p = new DevsupProcess(['run', ...extra, '--', 'node', 'app.js'], { cwd: root });
  running.push(p);
  return p;
}

describe('devsup logs of a run', () => {
  it('says why there is nothing when the output goes to the terminal, and how to keep it', async () => {
    const root = tempDir();
    writeTree(root, { 'app.js': APP });
    const p = run(root, []);
    await p.waitForLine(/HELLO pid=/);
    const r = await runDevsup(['logs', 'main'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('HELLO');
    expect(r.stderr).toContain('the output of main is not kept: `devsup run` hands it straight to its terminal');
    expect(r.stderr).toContain('devsup run --json');
  });

  it('prints the output, without the note, when run keeps it', async () => {
    const root = tempDir();
    writeTree(root, { 'app.js': APP });
    const p = run(root, ['--json']);
    await p.waitForLine(/HELLO pid=/);
    const r = await runDevsup(['logs', 'main'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/HELLO pid=\d+/);
    expect(r.stderr).toBe('');
  });
});

describe('devsup logs of a child that takes over its terminal', () => {
  // Clears the screen, homes the cursor, retitles the window and resets the terminal, then a coloured line.
  const GRABBY =
    "process.stdout.write('\\x1b[2J\\x1b[H\\x1b]0;pwned\\x07\\x1bcHELLO \\x1b[31mred\\x1b[0m pid=' + process.pid + '\\n'); setInterval(() => {}, 1000);";

  it('passes none of it on, and no colours to a pipe', async () => {
    const root = tempDir();
    writeTree(root, { 'app.js': GRABBY });
    const p = run(root, ['--json']);
    await p.waitForLine(/HELLO/);
    const r = await runDevsup(['logs', 'main'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^HELLO red pid=\d+$/m);
    expect(r.stdout).not.toContain('\x1b');
    expect(r.stdout).not.toContain('pwned');
  });

  it('with -f keeps the colours where colour is on, and still nothing that moves the cursor', async () => {
    const root = tempDir();
    writeTree(root, { 'app.js': GRABBY });
    const p = run(root, ['--json']);
    await p.waitForLine(/HELLO/);
    const logs = new DevsupProcess(['logs', '-f', 'main'], { cwd: root, env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    running.push(logs);
    const first = await logs.waitForLine(/HELLO/);
    expect(first).toMatch(/^HELLO \x1b\[31mred\x1b\[0m pid=\d+$/);
    // A new generation's output arrives by -f itself.
    const r = await runDevsup(['restart', 'main'], root);
    expect(r.code).toBe(0);
    const lines = await logs.waitForCount(/HELLO/, 2);
    expect(lines[1]).toMatch(/^HELLO \x1b\[31mred\x1b\[0m pid=\d+$/);
    expect(logs.text('stdout')).not.toMatch(/\x1b(?!\[[\d;]*m)/);
  });
});
