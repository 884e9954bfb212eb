import { realpathSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { procId, procStartMs } from '../../src/process/proc-start.js';
import { readProcRows, readProcTable, readTreeRows } from '../../src/process/table.js';
import { readPsTable } from '../../src/process/table-ps.js';
import { spawnChild } from '../../src/process/spawn.js';
import { stopTree } from '../../src/process/stop-tree.js';
import { collect, fixture } from './output.js';

describe('readProcTable', () => {
  it('describes our own process the way procId and the OS do', async () => {
    const me = (await readProcTable()).find((p) => p.pid === process.pid);
    expect(me).toBeDefined();
    expect(me!.ppid).toBe(process.ppid);
    expect(me!.uid).toBe(process.geteuid!());
    expect(me!.start).toBe(procId(process.pid)!.start);
    expect(Math.abs(me!.startMs - procStartMs(process.pid)!)).toBeLessThan(30);
    expect(me!.cwd).toBe(realpathSync(process.cwd()));
    expect(me!.cmdline.length).toBeGreaterThan(0);
    expect(me!.state).toMatch(/^[RS]/);
  });

  it('shows a child with its argv, cwd and own group', async () => {
    const dir = realpathSync(tempDir());
    const c = await spawnChild({ command: ['node', fixture('ready.mjs'), 'a b', ''], cwd: dir, env: {}, stdin: 'ignore', output: 'pipe' });
    trackPid(c.pid);
    await collect(c.stdout).line(/^READY/);

    const row = (await readProcTable()).find((p) => p.pid === c.pid);
    expect(row).toMatchObject({ ppid: process.pid, pgid: c.pid, start: c.id.start, cwd: dir });
    expect(row!.cmdline).toEqual(['node', fixture('ready.mjs'), 'a b', '']);
    await stopTree(c.id);
  });

  it('reads a tree from its root through the children lists, as the whole table shows it', async () => {
    const c = await spawnChild({ command: ['node', fixture('stubborn.mjs'), '--setsid'], cwd: process.cwd(), env: {}, stdin: 'ignore', output: 'pipe' });
    trackPid(c.pid);
    const gpid = Number((await collect(c.stdout).line(/^READY pid=\d+ grandchild=(\d+)$/))[1]);
    trackPid(gpid);
    try {
      const rows = readTreeRows(c.pid);
      expect(rows).toBeDefined();
      const byPid = new Map(rows!.map((r) => [r.pid, r]));
      // Our own row comes first (the caller needs its group), then the root and its descendant.
      expect(rows![0]!.pid).toBe(process.pid);
      const all = new Map((await readProcRows()).map((r) => [r.pid, r]));
      const ids = (r: { pid: number; ppid: number; pgid: number; start: string } | undefined) => r && { pid: r.pid, ppid: r.ppid, pgid: r.pgid, start: r.start };
      for (const pid of [c.pid, gpid]) expect(ids(byPid.get(pid))).toEqual(ids(all.get(pid)));
      expect(byPid.get(gpid)!.pgid).not.toBe(c.pid);
    } finally {
      await stopTree(c.id, { graceMs: 200 });
    }
  });

  it('scans a few hundred processes in a few ms', async () => {
    await readProcTable();
    const t0 = performance.now();
    const rows = await readProcTable();
    const ms = performance.now() - t0;
    expect(rows.length).toBeGreaterThan(10);
    expect(ms).toBeLessThan(50 + rows.length * 0.5);
  });
});

describe('readPsTable (the portable path, checkable here too)', () => {
  it('agrees with /proc on pid, ppid, pgid and (roughly) start', async () => {
    const [ps, proc] = await Promise.all([readPsTable(), readProcTable()]);
    const a = ps.find((p) => p.pid === process.pid);
    const b = proc.find((p) => p.pid === process.pid);
    expect(a).toMatchObject({ ppid: b!.ppid, pgid: b!.pgid, uid: b!.uid });
    // ps counts from the whole-second btime and truncates again: up to 2 s early, never late.
    expect(b!.startMs - a!.startMs).toBeGreaterThanOrEqual(-20);
    expect(b!.startMs - a!.startMs).toBeLessThan(2020);
    expect(a!.cmdline[0]).toBe(b!.cmdline[0]);
  });
});
