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
