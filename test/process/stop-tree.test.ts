import { describe, expect, it } from 'vitest';
import { isAlive as pidAlive, trackPid } from '../helpers/procs.js';
import { isAlive, readStat } from '../../src/process/proc-start.js';
import { readProcTable } from '../../src/process/table.js';
import { spawnChild, type Child } from '../../src/process/spawn.js';
import { captureDescendants, captureTree, signalIfAlive, stopTree } from '../../src/process/stop-tree.js';
import { collect, fixture, type Collected } from './output.js';

async function start(command: string[] | string): Promise<{ child: Child; out: Collected }> {
  const child = await spawnChild({ command, cwd: process.cwd(), env: {}, stdin: 'ignore', output: 'pipe' });
  trackPid(child.pid);
  return { child, out: collect(child.stdout) };
}

async function stubborn(...args: string[]) {
  const { child, out } = await start(['node', fixture('stubborn.mjs'), ...args]);
  const gpid = Number((await out.line(/^READY pid=\d+ grandchild=(\d+)$/))[1]);
  trackPid(gpid);
  return { child, out, gpid };
}

const count = (out: Collected, line: string) => out.lines().filter((l) => l === line).length;

describe('stopTree', () => {
  it('stops a polite child quickly, with one SIGTERM and no SIGKILL', async () => {
    const { child, out } = await start(['node', fixture('ready.mjs')]);
    await out.line(/^READY/);

    const r = await stopTree(child.pid);
    expect(r).toMatchObject({ signal: 'SIGTERM', forced: false, gaveUp: false, treeSize: 1, survivors: [] });
    expect(r.durationMs).toBeLessThan(1000);
    expect(await child.exited).toMatchObject({ code: 0, signal: null });
    expect(count(out, 'SIGNAL SIGTERM')).toBe(1);
  });

  it('kills a SIGTERM-ignoring child and grandchild after the grace period', async () => {
    const { child, out, gpid } = await stubborn();
    expect(readStat(gpid)?.pgid).toBe(child.pid);

    const r = await stopTree(child.id, { graceMs: 300 });
    expect(r).toMatchObject({ forced: true, gaveUp: false, treeSize: 2, survivors: [] });
    expect(r.durationMs).toBeGreaterThanOrEqual(300);
    expect(r.durationMs).toBeLessThan(2000);
    expect(pidAlive(child.pid)).toBe(false);
    expect(pidAlive(gpid)).toBe(false);
    expect(await child.exited).toMatchObject({ signal: 'SIGKILL' });
    // Each got SIGTERM exactly once, although the group and each pid were both targets.
    expect(count(out, `IGNORED SIGTERM pid=${child.pid}`)).toBe(1);
    expect(count(out, `IGNORED SIGTERM pid=${gpid}`)).toBe(1);
  });

  it('woken by the root exiting, still waits for the rest of the tree', async () => {
    const { child, out, gpid } = await stubborn('--root-exits');
    const r = await stopTree(child.id, { graceMs: 300, exited: child.exited });
    expect(await child.exited).toMatchObject({ signal: 'SIGTERM' });
    expect(r).toMatchObject({ forced: true, gaveUp: false, treeSize: 2, survivors: [] });
    expect(r.durationMs).toBeGreaterThanOrEqual(300);
    expect(pidAlive(gpid)).toBe(false);
    expect(count(out, `IGNORED SIGTERM pid=${gpid}`)).toBe(1);
  });

  it('catches a grandchild that left the group with setsid', async () => {
    const { child, out, gpid } = await stubborn('--setsid');
    expect(readStat(gpid)?.pgid).toBe(gpid);

    const tree = await captureTree(child.id);
    expect(tree.map((id) => id.pid).sort()).toEqual([child.pid, gpid].sort());
    // Through the kernel's child lists, without the whole table: the same processes, same starts.
    const byKey = (ids: { pid: number; start: string }[]) => ids.map((id) => `${id.pid}:${id.start}`).sort();
    expect(byKey(await captureDescendants(child.id))).toEqual(byKey(tree));
    // A root whose pid now names another process captures nothing.
    expect(await captureDescendants({ pid: child.pid, start: `${child.id.start}1` })).toEqual([]);

    const r = await stopTree(child.id, { graceMs: 300 });
    expect(r).toMatchObject({ forced: true, gaveUp: false, treeSize: 2, survivors: [] });
    expect(pidAlive(child.pid)).toBe(false);
    expect(pidAlive(gpid)).toBe(false);
    expect(count(out, `IGNORED SIGTERM pid=${gpid}`)).toBe(1);
  });

  it('uses a tree captured earlier, when the escaped grandchild has lost its parent', async () => {
    const { child, gpid } = await stubborn('--setsid');
    const captured = await captureTree(child.pid);
    process.kill(child.pid, 'SIGKILL');
    await child.exited;
    // Orphaned and outside the group: nothing but the earlier capture leads to it.
    expect(await captureTree(child.pid)).toEqual([]);

    const r = await stopTree(child.pid, { captured, signal: 'SIGKILL' });
    expect(r).toMatchObject({ forced: false, gaveUp: false, survivors: [] });
    expect(pidAlive(gpid)).toBe(false);
  });

  it('also stops what the tree forks while it is dying', async () => {
    const { child, out } = await start(
      `trap 'node "${fixture('ready.mjs')}" & echo "FORKED $!"; exit 0' TERM; echo READY; while :; do sleep 1; done`,
    );
    await out.line(/^READY$/);

    const r = await stopTree(child.pid, { graceMs: 1000 });
    const late = Number((await out.line(/^FORKED (\d+)$/))[1]);
    trackPid(late);
    // Not asserting forced: a SIGTERM that lands between the shell's fork and exec is taken by the
    // shell's inherited trap and lost, so now and then only the SIGKILL after the grace ends it.
    expect(r).toMatchObject({ gaveUp: false, survivors: [] });
    expect(r.treeSize).toBeGreaterThanOrEqual(3);
    expect(pidAlive(late)).toBe(false);
  });

  it('never signals a pid whose start does not match (pid reuse)', async () => {
    const { child, out } = await start(['node', fixture('ready.mjs')]);
    await out.line(/^READY/);
    const stranger = { pid: child.pid, start: String(Number(child.id.start) + 1) };

    expect(signalIfAlive(stranger, 'SIGKILL')).toBe(false);
    expect(await captureTree(stranger)).toEqual([]);
    const byId = await stopTree(stranger, { signal: 'SIGKILL', giveUpMs: 100 });
    expect(byId).toMatchObject({ treeSize: 0, survivors: [], gaveUp: false });
    const byCapture = await stopTree(stranger, { captured: [stranger], signal: 'SIGKILL', giveUpMs: 100 });
    expect(byCapture).toMatchObject({ treeSize: 1, survivors: [], gaveUp: false });
    expect(isAlive(child.id)).toBe(true);

    // Had any SIGKILL above been sent, this polite stop would find the child killed by it instead.
    await stopTree(child.id);
    expect(await child.exited).toMatchObject({ code: 0, signal: null });
    expect(count(out, 'SIGNAL SIGTERM')).toBe(1);
  });

  it('refuses to capture ourselves, our group or init', async () => {
    const table = await readProcTable();
    const ownPgid = table.find((r) => r.pid === process.pid)!.pgid;
    expect(await captureTree(process.pid, table)).toEqual([]);
    expect(await captureTree(ownPgid, table)).toEqual([]);
    expect(await captureTree(1, table)).toEqual([]);
  });

  it('returns at once for a tree that is already gone', async () => {
    const { child } = await start(['node', fixture('exit-with.mjs'), '0']);
    await child.exited;
    const r = await stopTree(child.id);
    expect(r).toMatchObject({ forced: false, gaveUp: false, treeSize: 0, survivors: [] });
    expect(r.durationMs).toBeLessThan(500);
  });
});
