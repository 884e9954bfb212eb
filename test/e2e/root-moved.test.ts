import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { isAlive } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { writeApp } from './app-fixture.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

function start(root: string): DevsupProcess {
  const p = new DevsupProcess(['run', '--json', '--', 'node', 'app.mjs'], { cwd: root });
  running.push(p);
  return p;
}

describe('the project directory moved while running', () => {
  it('stops cleanly, says where it went, and leaves nothing at the old path or in the new one', async () => {
    const parent = tempDir();
    const root = join(parent, 'proj');
    const moved = join(parent, 'proj-renamed');
    writeApp(root);
    const p = start(root);
    const pid = Number(/pid=(\d+)/.exec(await p.waitForLine(/^READY .* gen=1 /))![1]);
    // An edit whose index save is still due when the directory moves.
    writeFileSync(join(root, 'value.mjs'), "export const value = 'two';\n");
    await p.waitForLine(/^READY .* gen=2 /);
    renameSync(root, moved);
    const exit = await Promise.race([p.exit, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit:\n${p.text()}`)), 10_000))]);
    expect(exit.code).toBe(1);
    expect(p.events().some((e) => e.type === 'warning' && String(e.message) === `the project directory ${root} was moved to ${moved}; stopping (start devsup again in its new place)`)).toBe(true);
    await waitFor(() => !isAlive(pid), 'first child gone');
    expect(p.events().filter((e) => e.type === 'stopped').length).toBeGreaterThan(0);
    // Waited past the delayed index save: nothing is made at the old path.
    await new Promise((r) => setTimeout(r, 500));
    expect(existsSync(root)).toBe(false);
    expect(readdirSync(join(moved, '.devsup')).filter((n) => /\.(lock|sock|children\.json|sock-path)$/.test(n))).toEqual([]);
  });

  it('moved away and a directory made at the old path: stops without a start there, and writes nothing there', async () => {
    const parent = tempDir();
    const root = join(parent, 'proj');
    const moved = join(parent, 'proj-moved');
    writeApp(root);
    const p = start(root);
    await p.waitForLine(/^READY .* gen=1 /);
    renameSync(root, moved);
    mkdirSync(root);
    const exit = await Promise.race([p.exit, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit:\n${p.text()}`)), 10_000))]);
    expect(exit.code).toBe(1);
    expect(p.events().filter((e) => e.type === 'worker-started' && Number(e.generation) > 1)).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    expect(readdirSync(root), JSON.stringify(existsSync(join(root, '.devsup')) ? readdirSync(join(root, '.devsup'), { recursive: true }) : [])).toEqual([]);
  });

  it('stops when the directory is removed', async () => {
    const root = join(tempDir(), 'proj');
    writeApp(root);
    const p = start(root);
    await p.waitForLine(/^READY .* gen=1 /);
    rmSync(root, { recursive: true, force: true });
    const exit = await Promise.race([p.exit, new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit:\n${p.text()}`)), 10_000))]);
    expect(exit.code).toBe(1);
    expect(p.text()).toContain(`the project directory ${root} was moved or removed; stopping`);
    expect(existsSync(root)).toBe(false);
  });
});
