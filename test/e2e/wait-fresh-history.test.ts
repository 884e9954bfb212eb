import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

interface Rec {
  generation: number;
  exitCode: number | null;
  result: string;
}

describe('wait-fresh and history', () => {
  it('`wait-fresh && history -n 1` shows the run wait-fresh answered about, edit after edit', async () => {
    const root = tempDir();
    // Each edit gives the task its own exit code, so the record of each run is told apart.
    writeTree(root, {
      't/check.mjs': "const { v } = await import('./v.mjs'); console.log('RUN v=' + v); process.exit(v);",
      't/v.mjs': 'export const v = 0;',
    });
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ name: 'check', cmd: ['node', 'check.mjs'], cwd: 't', kind: 'task' }] }));
    const p = new DevsupProcess(['up', '--json'], { cwd: root });
    running.push(p);
    await p.waitForEvent((e) => e.type === 'task-finished', 'the first run');
    for (let v = 1; v <= 5; v++) {
      writeFileSync(join(root, 't/v.mjs'), `export const v = ${v};`);
      const w = await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000);
      expect(w.stderr.trim()).toBe(`check: failed (exit ${v})`);
      const h = await runDevsup(['history', 'check', '-n', '1', '--json'], root);
      expect(h.code).toBe(0);
      const [rec] = JSON.parse(h.stdout) as Rec[];
      expect(rec, `history after edit ${v}`).toMatchObject({ exitCode: v, result: 'failed' });
    }
  });

  it('still answers when the history cannot be written', async () => {
    const root = tempDir();
    writeTree(root, {
      't/check.mjs': "const { v } = await import('./v.mjs'); process.exit(v);",
      't/v.mjs': 'export const v = 0;',
    });
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ name: 'check', cmd: ['node', 'check.mjs'], cwd: 't', kind: 'task' }] }));
    // A planted link where the history goes: devsup refuses to write through it, and says so.
    mkdirSync(join(root, '.devsup'));
    symlinkSync(join(tempDir(), 'elsewhere.jsonl'), join(root, '.devsup', 'history.jsonl'));
    const p = new DevsupProcess(['up', '--json'], { cwd: root });
    running.push(p);
    await p.waitForEvent((e) => e.type === 'task-finished', 'the first run');
    writeFileSync(join(root, 't/v.mjs'), 'export const v = 3;');
    const w = await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000);
    expect(w.stderr.trim()).toBe('check: failed (exit 3)');
    await p.waitForEvent((e) => e.type === 'warning' && String(e.message).startsWith('history not recorded'), 'the warning');
  });
});
