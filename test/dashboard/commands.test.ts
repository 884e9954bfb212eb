import { describe, expect, it } from 'vitest';
import type { SupervisorApi } from '../../src/supervisor/api.js';
import { stripSgr } from '../../src/views/dashboard/ansi.js';
import { Commands } from '../../src/views/dashboard/commands.js';
import { StatusLine } from '../../src/views/dashboard/status.js';
import { waitFor } from '../helpers/wait.js';
import { workerView } from './views.js';

function setup(api: Partial<SupervisorApi>) {
  const status = new StatusLine();
  let settled = 0;
  const cmds = new Commands(api as SupervisorApi, status, () => settled++);
  const shown = () => stripSgr(status.render(200, 'list')).split('   ')[0];
  return { cmds, shown, settled: () => settled };
}

describe('Commands', () => {
  it('says what it does, then how it went, and marks the worker as restarting meanwhile', async () => {
    let finish!: () => void;
    const calls: unknown[] = [];
    const { cmds, shown, settled } = setup({ restart: (names) => (calls.push(names), new Promise<void>((r) => (finish = r))) });
    cmds.restart('api');
    expect(calls).toEqual([['api']]);
    expect(shown()).toBe('restarting api…');
    expect(cmds.restarting.has('api')).toBe(true);
    finish();
    await waitFor(() => settled() === 1, 'the restart to settle');
    expect(shown()).toBe('restarted api');
    expect(cmds.restarting.has('api')).toBe(false);
  });

  it('reports a failed call as an error', async () => {
    const { cmds, shown, settled } = setup({ stop: () => Promise.reject(new Error('no such worker')) });
    cmds.toggleStop(workerView({ name: 'web', state: 'running' }));
    await waitFor(() => settled() === 1, 'the stop to settle');
    expect(shown()).toBe('stopping web failed: no such worker');
  });

  it('starts an idle worker instead of stopping it, and reports cleared caches', async () => {
    const calls: string[] = [];
    const { cmds, shown, settled } = setup({
      start: async (n) => void calls.push(`start ${n}`),
      clearCaches: async () => ({ paths: ['a', 'b', 'c'], bytes: 12_288 }),
    });
    cmds.toggleStop(workerView({ name: 'web', state: 'idle', pid: null }));
    await waitFor(() => settled() === 1, 'the start to settle');
    expect([calls, shown()]).toEqual([['start web'], 'started web']);
    cmds.clearCaches('web');
    await waitFor(() => settled() === 2, 'the clearing to settle');
    expect(shown()).toBe('cleared 3 caches (12 KB)');
  });

  it('does nothing more once quitting, and keeps saying so', async () => {
    const calls: string[] = [];
    const { cmds, shown } = setup({ restart: async () => void calls.push('restart') });
    cmds.quit();
    cmds.restart('api');
    expect(calls).toEqual([]);
    expect(shown()).toBe('stopping…');
  });
});
