import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseStat } from '../../src/process/proc-start.js';
import { ProcSampler, descendants, procStatsSupported } from '../../src/views/dashboard/proc-stats.js';
import { childrenOf, isAlive, trackPid } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';

const MB = 1024 * 1024;

describe('parseStat', () => {
  it('reads ppid, ticks and start time past a command name with spaces and parentheses', () => {
    const line = '4242 (we ird) (name) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 98765 1000000 300 18446744073709551615';
    expect(parseStat(line)).toEqual({ pid: 4242, state: 'S', ppid: 17, pgid: 4242, cpuTicks: 300, startTicks: '98765' });
    expect(parseStat('garbage')).toBeUndefined();
  });

  it('walks a tree through parent links', () => {
    const children = new Map([
      [1, [2, 3]],
      [3, [4]],
      [9, [10]],
    ]);
    expect(descendants(1, children)).toEqual([1, 2, 3, 4]);
    expect(descendants(4, children)).toEqual([4]);
  });
});

describe.runIf(procStatsSupported)('ProcSampler on a real process tree', () => {
  it('sums CPU and memory over a busy child and its busy grandchild', async () => {
    // The child holds 64 MB and spins; its own child spins too.
    const script = `
      require('child_process').spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
      globalThis.keep = Buffer.alloc(64 * 1024 * 1024, 1);
      for (;;) {}`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore', detached: true });
    trackPid(child.pid);
    const pid = child.pid!;
    const sampler = new ProcSampler({ intervalMs: 300 });
    let grandchild = 0;
    try {
      grandchild = await waitFor(() => childrenOf(pid)[0], 'the grandchild to start');
      trackPid(grandchild);
      sampler.watch([pid]);
      sampler.start();
      const stats = await waitFor(() => {
        const s = sampler.get(pid);
        return s && s.cpu !== null && s.cpu > 30 && s.rss > 64 * MB ? s : undefined;
      }, 'a sample showing the busy tree', 15_000);
      expect(stats.procs).toBe(2);
      // Two spinning processes on this machine: well above one idle process, at most all cores.
      expect(stats.cpu!).toBeLessThanOrEqual(100 * (await import('node:os')).cpus().length + 20);
      expect(stats.rss).toBeLessThan(2048 * MB);
      expect(sampler.get(999_999_999)).toBeUndefined();
      expect(sampler.get(null)).toBeUndefined();
    } finally {
      sampler.stop();
      process.kill(-pid, 'SIGKILL');
      await waitFor(() => !isAlive(pid) && !(grandchild > 0 && isAlive(grandchild)), 'the child and grandchild to die');
    }
  });

  it('reports nothing for a pid that does not exist', async () => {
    const sampler = new ProcSampler({ intervalMs: 100 });
    sampler.watch([999_999_999]);
    await sampler.sample();
    await sampler.sample();
    expect(sampler.get(999_999_999)).toBeUndefined();
    sampler.stop();
  });
});
