import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { writeApp } from './app-fixture.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

function start(root: string, args: string[]): DevsupProcess {
  const p = new DevsupProcess(['run', '--json', ...args, '--', 'node', 'app.mjs'], { cwd: root });
  running.push(p);
  return p;
}

describe('devsup run: awkward trees', () => {
  it('keeps working across a symlink loop in the tree', async () => {
    const root = tempDir();
    writeApp(root, 'one', { 'lib/a.mjs': 'export const a = 1;\n' });
    symlinkSync(root, join(root, 'lib', 'loop'));
    const p = start(root, []);
    await p.waitForLine(/READY .* gen=1 /);
    writeFileSync(join(root, 'lib/a.mjs'), 'export const a = 2;\n');
    const ev = await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'restart');
    expect((ev.restart as { changes: { modified: string[] } }).changes.modified).toEqual(['lib/a.mjs']);
  });

  it('notices a watched directory that is deleted and created again', async () => {
    const root = tempDir();
    const src = join(root, 'src');
    writeApp(root, 'one');
    writeTree(src, { 'x.mjs': 'export const x = 1;\n' });
    const p = start(root, ['--watch', 'src']);
    await p.waitForLine(/READY .* gen=1 /);
    rmSync(src, { recursive: true });
    await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'restart for the deletion');
    mkdirSync(src);
    writeFileSync(join(src, 'x.mjs'), 'export const x = 2;\n');
    const ev = await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 3, 'restart after it came back', 15_000);
    expect((ev.restart as { changes: { added: string[] } }).changes.added).toEqual(['src/x.mjs']);
    writeFileSync(join(src, 'x.mjs'), 'export const x = 3;\n');
    await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 4, 'later edits still seen');
  });
});
