import { readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeTree, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { FIXTURES, fetchValue, httpWorker, readyWorker, writeHttpApp } from './apps.js';
import { Cli, devsup, freePort, startHarness, stopHarnesses } from './rig.js';

afterEach(stopHarnesses);

/** How many sockets a process holds open. */
function socketsOf(pid: number): number {
  const dir = `/proc/${pid}/fd`;
  return readdirSync(dir).filter((fd) => {
    try {
      return readlinkSync(`${dir}/${fd}`).startsWith('socket:');
    } catch {
      return false; // closed meanwhile
    }
  }).length;
}

describe('devsup wait-fresh', () => {
  it('returns once the service answers with the code just written', async () => {
    const root = tempDir();
    writeHttpApp(root, 'one');
    const port = await freePort();
    const h = await startHarness({ root, workers: [httpWorker(port)] });
    expect((await devsup(['wait-fresh'], root)).code).toBe(0);
    expect(await fetchValue(port)).toBe('one');
    for (const value of ['two', 'three']) {
      // `edit && devsup wait-fresh && use it`: no sleep, no polling.
      writeFileSync(join(root, 'value.mjs'), `export const value = '${value}';\n`);
      const r = await devsup(['wait-fresh', 'web', '--timeout', '10s'], root);
      expect(r.code, r.stderr).toBe(0);
      expect(await fetchValue(port)).toBe(value);
    }
    expect(h.count((e) => e.type === 'worker-started')).toBe(3);
  });

  it('waits for an edit made while a restart is under way', async () => {
    const root = tempDir();
    writeHttpApp(root, 'one');
    const port = await freePort();
    // Each stop takes 700 ms, so the second edit lands while the first restart is still stopping.
    const h = await startHarness({ root, workers: [httpWorker(port, 700)] });
    await h.waitEvent((e) => e.type === 'ready', 'first ready');
    writeFileSync(join(root, 'value.mjs'), "export const value = 'two';\n");
    await h.waitEvent((e) => e.type === 'stopping' && e.generation === 1, 'restart under way');
    writeFileSync(join(root, 'value.mjs'), "export const value = 'three';\n");
    const r = await devsup(['wait-fresh', '--timeout', '15s'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(await fetchValue(port)).toBe('three');
    expect(h.events().find((e) => e.type === 'stopping' && e.generation === 1)).toBeDefined();
  });

  it('exits with the task result on the awaited code: 0 passed, 1 failed', async () => {
    const root = tempDir();
    writeTree(root, { 'check.mjs': "const { ok } = await import('./verdict.mjs'); console.log(`CHECK ok=${ok}`); process.exit(ok ? 0 : 1);\n", 'verdict.mjs': 'export const ok = true;\n' });
    const h = await startHarness({ root, workers: [{ name: 'check', kind: 'task', command: ['node', 'check.mjs'] }] });
    const pass = await devsup(['wait-fresh', 'check'], root);
    expect(pass).toMatchObject({ code: 0, stderr: 'check: passed' });
    writeFileSync(join(root, 'verdict.mjs'), 'export const ok = false;\n');
    const fail = await devsup(['wait-fresh', 'check'], root);
    expect(fail).toMatchObject({ code: 1, stderr: 'check: failed (exit 1)' });
    expect(h.events().filter((e) => e.type === 'task-finished').map((e) => e.result)).toEqual(['passed', 'failed']);
  });

  it('answers from the run on the code now on disk, not from an earlier run of the same content', async () => {
    const root = tempDir();
    const flag = join(tempDir(), 'flag');
    // The result depends on something outside the tree, as a flaky test's does.
    writeTree(root, {
      'check.mjs': `import { existsSync } from 'node:fs'; const { v } = await import('./v.mjs'); console.log('CHECK v=' + v); process.exit(existsSync(${JSON.stringify(flag)}) ? 1 : 0);\n`,
      'v.mjs': "export const v = 'a';\n",
    });
    const h = await startHarness({ root, workers: [{ name: 'check', kind: 'task', command: ['node', 'check.mjs'] }] });
    expect(await devsup(['wait-fresh', 'check'], root)).toMatchObject({ code: 0, stderr: 'check: passed' });
    writeFileSync(join(root, 'v.mjs'), "export const v = 'b';\n");
    expect(await devsup(['wait-fresh', 'check'], root)).toMatchObject({ code: 0, stderr: 'check: passed' });
    writeFileSync(flag, '');
    // Back to the first content: its earlier pass is not the answer, the new run's failure is.
    writeFileSync(join(root, 'v.mjs'), "export const v = 'a';\n");
    expect(await devsup(['wait-fresh', 'check', '--timeout', '15s'], root)).toMatchObject({ code: 1, stderr: 'check: failed (exit 1)' });
    expect(h.events().filter((e) => e.type === 'task-finished').map((e) => e.result)).toEqual(['passed', 'passed', 'failed']);
  });

  it('exits 1 on timeout saying what it still waits for', async () => {
    const root = tempDir();
    await startHarness({ root, workers: [{ name: 'broken', command: ['node', `${FIXTURES}exit-with.mjs`, '2'] }, readyWorker('fine')] });
    const r = await devsup(['wait-fresh', '--timeout', '400ms'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^devsup: not fresh after 400ms; still waiting for:\n {2}broken: running on code [0-9a-f]+ \(now exited\)$/);
  });

  it('answers an unknown worker with exit 2 and the list of workers', async () => {
    const root = tempDir();
    await startHarness({ root, workers: [readyWorker('web')] });
    const r = await devsup(['wait-fresh', 'nope'], root);
    expect(r).toMatchObject({ code: 2, stderr: 'devsup: unknown worker "nope"; workers: web' });
  });

  it('ends with exit 3 when the supervisor goes away while waiting', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [{ name: 'broken', command: ['node', `${FIXTURES}exit-with.mjs`, '2'] }] });
    // Short: the supervisor's own waitFresh timer outlives its shutdown until it fires.
    await h.waitEvent((e) => e.type === 'exited', 'worker exited');
    const before = socketsOf(h.pid);
    const wait = new Cli(['wait-fresh', '--timeout', '4s'], { cwd: root });
    // The supervisor holds one more socket once the client has connected (its request follows at once).
    await waitFor(() => socketsOf(h.pid) > before, 'the wait-fresh client to connect');
    const t0 = Date.now();
    h.proc.kill('SIGTERM');
    const r = await wait.exit;
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^devsup: devsup for .* went away before answering$/);
    await h.stop();
  });
});
