import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { trackPid } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive, parseStat, procId, procStartMs, readStat } from '../../src/process/proc-start.js';
import { spawnChild, type SpawnSpec } from '../../src/process/spawn.js';
import { stopTree } from '../../src/process/stop-tree.js';
import { collect, fixture } from './output.js';

const spec = (command: string[] | string, output: SpawnSpec['output'] = 'pipe'): SpawnSpec => ({
  command,
  cwd: process.cwd(),
  env: {},
  stdin: 'ignore',
  output,
});

describe('parseStat', () => {
  it('counts fields from the last ")" so a comm with spaces and parentheses does not shift them', () => {
    const fields = Array.from({ length: 49 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    const s = parseStat(`4242 (a) b (c)) ${fields.join(' ')}`);
    // utime (field 14) plus stime (field 15).
    expect(s).toEqual({ pid: 4242, state: 'S', ppid: 4, pgid: 5, startTicks: '22', cpuTicks: 14 + 15 });
  });
});

describe('procId / procStartMs / isAlive', () => {
  it('gives a stable identity per process, distinct across processes', async () => {
    const a = await spawnChild(spec(['node', fixture('ready.mjs')]));
    trackPid(a.pid);
    const b = await spawnChild(spec(['node', fixture('ready.mjs')]));
    trackPid(b.pid);
    await collect(a.stdout).line(/^READY/);
    await collect(b.stdout).line(/^READY/);

    expect(procId(a.pid)).toEqual(a.id);
    expect(procId(a.pid)).toEqual(procId(a.pid));
    expect(a.id.start).toMatch(/^\d+$/);
    expect(a.id).not.toEqual(b.id);
    expect(isAlive(a.id)).toBe(true);
    expect(isAlive({ pid: a.pid, start: String(Number(a.id.start) + 1) })).toBe(false);

    await stopTree(a.id);
    await stopTree(b.id);
  });

  it('puts the start time within a clock tick or so of the real one', async () => {
    for (let i = 0; i < 5; i++) {
      const before = Date.now();
      const c = await spawnChild(spec(['node', fixture('exit-with.mjs'), '0'], 'inherit'));
      trackPid(c.pid);
      const startMs = procStartMs(c.pid);
      const after = Date.now();
      await c.exited;
      expect(startMs).toBeDefined();
      expect(startMs!).toBeGreaterThanOrEqual(before - 50);
      expect(startMs!).toBeLessThanOrEqual(after + 50);
    }
  });

  it('agrees with ps lstart, which is coarser', () => {
    const lstart = execFileSync('ps', ['-o', 'lstart=', '-p', String(process.pid)], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
    }).trim();
    const diff = procStartMs(process.pid)! - Date.parse(lstart);
    // ps counts from the whole-second btime and truncates again: up to 2 s early, never late.
    expect(diff).toBeGreaterThanOrEqual(-20);
    expect(diff).toBeLessThan(2020);
  });

  it('says not alive once the process has exited, and knows nothing of missing pids', async () => {
    const c = await spawnChild(spec(['node', fixture('exit-with.mjs'), '0'], 'inherit'));
    trackPid(c.pid);
    await c.exited;
    expect(isAlive(c.id)).toBe(false);
    expect(procId(0)).toBeUndefined();
    expect(procId(-1)).toBeUndefined();
    expect(procStartMs(2 ** 31 - 1)).toBeUndefined();
    expect(isAlive({ pid: 2 ** 31 - 1, start: '1' })).toBe(false);
  });

  it('says not alive for a zombie, although its pid and start still exist', async () => {
    // The background subshell exits once the shell has become sleep, which never reaps it.
    const sh = await spawnChild(
      spec('(until read c < /proc/$$/comm && [ "$c" = sleep ]; do :; done) & echo "ZOMBIE $!"; exec sleep 30'),
    );
    trackPid(sh.pid);
    const zpid = Number((await collect(sh.stdout).line(/^ZOMBIE (\d+)$/))[1]);
    trackPid(zpid);
    await waitFor(() => readStat(zpid)?.state === 'Z', 'the child to become a zombie');

    const zid = procId(zpid);
    expect(zid).toBeDefined();
    expect(isAlive(zid!)).toBe(false);
    expect(isAlive(sh.id)).toBe(true);
    await stopTree(sh.id);
  });
});
