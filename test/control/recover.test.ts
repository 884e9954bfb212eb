import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readChildren, recoverLeftovers } from '../../src/control/children.js';
import { procId } from '../../src/process/proc-start.js';
import { isAlive as pidAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { FIXTURES, readyWorker } from './apps.js';
import { devsup, startHarness, stopHarnesses, type Harness } from './rig.js';

afterEach(stopHarnesses);

const childrenFile = (root: string) => join(root, '.devsup/default.children.json');

/** A stubborn worker whose grandchild calls setsid: once devsup dies, nothing but the record leads to it. */
async function orphanedTree(root: string): Promise<{ h: Harness; pid: number; grandchild: number }> {
  const h = await startHarness({ root, workers: [{ name: 'tree', command: ['node', `${FIXTURES}stubborn.mjs`, '--setsid'], ready: { log: '^READY' } }] });
  const ready = await h.waitEvent((e) => e.type === 'output' && /^READY pid=\d+ grandchild=\d+$/.test(String(e.line)), 'tree ready');
  const [, pid, grandchild] = /pid=(\d+) grandchild=(\d+)/.exec(String(ready.line))!.map(Number) as [number, number, number];
  // The grandchild is recorded by a later capture, not the one right after the start.
  await waitFor(async () => (await readChildren(root, 'default'))?.workers.tree?.tree.some((id) => id.pid === grandchild), 'grandchild recorded');
  h.proc.kill('SIGKILL');
  await h.exit;
  expect(pidAlive(pid) && pidAlive(grandchild)).toBe(true);
  return { h, pid, grandchild };
}

describe('crash survival', () => {
  it('records running trees, and removes them once stopped', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker('a')] });
    const started = await h.waitEvent((e) => e.type === 'worker-started', 'started');
    const rec = await waitFor(() => readChildren(root, 'default'), 'record written');
    expect(rec.supervisor.pid).toBe(h.pid);
    expect(rec.workers.a).toMatchObject({ generation: 1, root: { pid: started.pid, start: procId(started.pid as number)!.start } });
    expect(rec.workers.a!.tree).toContainEqual(rec.workers.a!.root);
    await devsup(['stop', 'a'], root);
    await waitFor(() => !existsSync(childrenFile(root)), 'record removed when nothing runs');
  });

  it('after a SIGKILL of the supervisor, recoverLeftovers stops the orphaned tree and deletes the record', async () => {
    const root = tempDir();
    const { pid, grandchild } = await orphanedTree(root);
    const { stopped } = await recoverLeftovers(root, 'default', { graceMs: 300 });
    expect(stopped.map((id) => id.pid).sort()).toEqual([pid, grandchild].sort());
    expect(pidAlive(pid)).toBe(false);
    expect(pidAlive(grandchild)).toBe(false);
    expect(existsSync(childrenFile(root))).toBe(false);
  });

  it('the next supervisor takes over the stale lock and socket and stops the leftovers itself', async () => {
    const root = tempDir();
    const { h: dead, pid, grandchild } = await orphanedTree(root);
    expect(existsSync(join(root, '.devsup/default.lock'))).toBe(true);
    const next = await startHarness({ root, workers: [readyWorker('other')] });
    expect(next.socketPath).toBe(dead.socketPath);
    const ready = next.events().find((e) => e.type === 'harness-ready')!;
    expect((ready.recovered as { pid: number }[]).map((id) => id.pid).sort()).toEqual([pid, grandchild].sort());
    expect(pidAlive(pid) || pidAlive(grandchild)).toBe(false);
    expect(JSON.parse(readFileSync(join(root, '.devsup/default.lock'), 'utf8'))).toMatchObject({ pid: next.pid });
    expect((await devsup(['status'], root)).code).toBe(0);
  });

  it('never touches a process whose pid matches a record but whose start differs', async () => {
    const root = tempDir();
    mkdirSync(join(root, '.devsup'));
    const bystander = spawn(process.execPath, [`${FIXTURES}ready.mjs`], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    trackPid(bystander.pid);
    let out = '';
    bystander.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await waitFor(() => out.includes('READY'), 'bystander ready');
    const real = procId(bystander.pid!)!;
    const reused = { pid: real.pid, start: String(Number(real.start) - 1) };
    writeFileSync(
      childrenFile(root),
      JSON.stringify({ v: 1, supervisor: { pid: 999_999_999, start: '1' }, workers: { w: { generation: 3, root: reused, tree: [reused] } } }),
    );
    expect(await recoverLeftovers(root, 'default', { graceMs: 300 })).toEqual({ stopped: [] });
    await new Promise((r) => setTimeout(r, 200));
    expect(pidAlive(real.pid)).toBe(true);
    expect(out).not.toMatch(/SIGNAL/);
    expect(existsSync(childrenFile(root))).toBe(false);
    process.kill(-real.pid, 'SIGKILL');
    await waitFor(() => !pidAlive(real.pid), 'bystander gone');
  });

  it('never touches an unrelated process of ours whose exact pid and start a record names', async () => {
    const root = tempDir();
    mkdirSync(join(root, '.devsup'));
    const bystander = spawn(process.execPath, [`${FIXTURES}ready.mjs`], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
    trackPid(bystander.pid);
    let out = '';
    bystander.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    await waitFor(() => out.includes('READY'), 'bystander ready');
    const exact = procId(bystander.pid!)!;
    // Exact pid and start, this user, this boot, a well-formed token: everything but proof.
    const record = { v: 1, supervisor: { pid: 999_999_999, start: '1' }, uid: process.getuid!(), workers: { w: { generation: 1, root: exact, tree: [exact], token: 'ab'.repeat(16) } } };
    writeFileSync(childrenFile(root), JSON.stringify(record));
    expect(await recoverLeftovers(root, 'default', { graceMs: 300 })).toEqual({ stopped: [] });
    // A wrong command-line digest proves nothing either.
    writeFileSync(childrenFile(root), JSON.stringify({ ...record, workers: { w: { generation: 1, root: { ...exact, cmd: '0123456789abcdef' }, tree: [] } } }));
    expect(await recoverLeftovers(root, 'default', { graceMs: 300 })).toEqual({ stopped: [] });
    await new Promise((r) => setTimeout(r, 200));
    expect(pidAlive(exact.pid)).toBe(true);
    expect(out).not.toMatch(/SIGNAL/);
    process.kill(-exact.pid, 'SIGKILL');
    await waitFor(() => !pidAlive(exact.pid), 'bystander gone');
  });

  it('after a SIGKILL of the supervisor, the next one stops a double-forked daemon the tree left, found by its token', async () => {
    const root = tempDir();
    const pidFile = join(root, 'daemon.pid');
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const command = `( setsid node ${FIXTURES}daemon.mjs ${pidFile} ${port} & ) ; exec node ${FIXTURES}ready.mjs`;
    const h = await startHarness({ root, workers: [{ name: 'd', command, ready: { log: '^READY' } }] });
    const daemon = Number(await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8'), 'daemon started'));
    trackPid(daemon);
    const rec = await waitFor(() => readChildren(root, 'default'), 'record written');
    expect(rec.workers.d!.token).toMatch(/^[0-9a-f]{32}$/);
    h.proc.kill('SIGKILL');
    await h.exit;
    expect(pidAlive(daemon)).toBe(true);
    const { stopped } = await recoverLeftovers(root, 'default', { graceMs: 1000 });
    expect(stopped.map((id) => id.pid)).toContain(daemon);
    expect(pidAlive(daemon)).toBe(false);
  });

  it('leaves the record alone while the supervisor that wrote it lives', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker('a')] });
    await waitFor(() => readChildren(root, 'default'), 'record written');
    expect(await recoverLeftovers(root, 'default', { graceMs: 300 })).toEqual({ stopped: [] });
    expect(existsSync(childrenFile(root))).toBe(true);
    expect(h.events().filter((e) => e.type === 'stopping')).toEqual([]);
  });
});
