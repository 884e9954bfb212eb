import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { isAlive } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { writeApp } from './app-fixture.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

function start(root: string): DevsupProcess {
  const p = new DevsupProcess(['run', '--json', '--ready', '^READY', '--', 'node', 'app.mjs'], { cwd: root });
  running.push(p);
  return p;
}

describe('devsup run with a control socket', () => {
  it('lets wait-fresh called as the supervisor is launched find it, and says none runs when none comes', async () => {
    const root = tempDir();
    writeApp(root, 'one');
    // A script's `devsup run … & devsup wait-fresh`: the waiter starts before the supervisor is up.
    const waiting = runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000);
    const p = start(root);
    const w = await waiting;
    expect(w.code, w.stderr).toBe(0);
    expect(p.text()).toMatch(/READY .* gen=1 .*value=one/);
    const none = await runDevsup(['wait-fresh', '--timeout', '20s'], tempDir(), 30_000);
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('no devsup is running');
  });

  it('answers status and wait-fresh from another process', async () => {
    const root = tempDir();
    writeApp(root, 'one');
    const p = start(root);
    await p.waitForLine(/READY .* gen=1 .*value=one/);
    const s1 = await runDevsup(['status', '--json'], root);
    expect(s1.code).toBe(0);
    writeFileSync(join(root, 'value.mjs'), "export const value = 'two';\n");
    const w = await runDevsup(['wait-fresh', '--timeout', '10s'], root);
    expect(w.code).toBe(0);
    // The READY line is the ready marker, so wait-fresh returned only once the new code had loaded.
    const s2 = await runDevsup(['status', '--json'], root);
    expect(s2.code).toBe(0);
    const worker = (JSON.parse(s2.stdout) as { workers: Array<{ generation: number; verdict: string; ready: boolean }> }).workers[0]!;
    expect(worker).toMatchObject({ generation: 2, verdict: 'fresh', ready: true });
    await p.waitForLine(/READY .* gen=2 .*value=two/);
  });

  it('refuses a second supervisor for the same project', async () => {
    const root = tempDir();
    writeApp(root);
    const p = start(root);
    await p.waitForLine(/READY /);
    const second = await runDevsup(['run', '--', 'node', 'app.mjs'], root);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(new RegExp(`another devsup is already running for this project \\(pid ${p.proc.pid}\\)`));
  });

  it('after a SIGKILL of the supervisor, the next one stops the orphaned tree and says so', async () => {
    const root = tempDir();
    writeApp(root);
    const first = start(root);
    const ready = await first.waitForLine(/READY /);
    const orphan = Number(/pid=(\d+)/.exec(ready)![1]);
    first.proc.kill('SIGKILL');
    await first.exit;
    expect(isAlive(orphan)).toBe(true);
    const second = start(root);
    const warn = await second.waitForEvent((e) => e.type === 'warning' && /left running by a devsup that crashed/.test(String(e.message)), 'recovery reported');
    expect(String(warn.message)).toContain(String(orphan));
    expect(isAlive(orphan)).toBe(false);
    await second.waitForLine(/READY /, 'the new supervisor runs its own child');
  });
});
