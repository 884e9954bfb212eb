import { readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/history/record.js';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { isAlive, trackPid } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';
import { CLI_TIMEOUT_MS, project } from './project.js';

/**
 * A run that never ends by itself, with a grandchild in its group and one that left it (setsid):
 * every pid goes to pids/ so the test can track them, since flake shows no child output.
 */
const HANG = `
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
const note = (pid) => writeFileSync('pids/' + process.env.FLAKE_RUN + '-' + pid, '');
const forever = ['-e', 'setInterval(() => {}, 1000)'];
note(spawn(process.execPath, forever, { stdio: 'ignore' }).pid);
note(spawn(process.execPath, forever, { stdio: 'ignore', detached: true }).pid);
note(process.pid);
setInterval(() => {}, 1000);
`;

describe('devsup flake: Ctrl-C', () => {
  it('stops every running tree, prints the partial report and records the runs as cancelled', async () => {
    const dir = project();
    mkdirSync(join(dir, 'pids'));
    writeFileSync(join(dir, 'hang.mjs'), HANG);
    const p = new DevsupProcess(['flake', '-n', '10', '-j', '2', '--', 'node', 'hang.mjs'], { cwd: dir });
    const pids = await waitFor(() => {
      const names = readdirSync(join(dir, 'pids'));
      return names.length >= 6 ? names.map((n) => Number(n.split('-')[1])) : undefined;
    }, 'two runs with their grandchildren', 20_000);
    for (const pid of pids) trackPid(pid);
    expect(pids.every(isAlive)).toBe(true);

    const code = await p.stop('SIGINT', 20_000);
    expect(code, p.text()).toBe(130);
    expect(pids.filter(isAlive)).toEqual([]);
    const out = p.text('stdout').split('\n');
    expect(out[0]).toBe('no run finished: nothing to measure');
    expect(out).toContain('aborted after 0 of 10 runs; 2 cut short and not counted');
    // Nothing launched after the signal.
    expect(readdirSync(join(dir, 'pids'))).toHaveLength(6);

    const h = await runDevsup(['history', 'flake', '--json'], dir, CLI_TIMEOUT_MS);
    const records = JSON.parse(h.stdout) as RunRecord[];
    expect(records.map((r) => [r.generation, r.result]).sort()).toEqual([
      [1, 'cancelled'],
      [2, 'cancelled'],
    ]);
  }, 90_000);
});
