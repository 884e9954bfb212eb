import { describe, expect, it } from 'vitest';
import { realPort } from '../../src/worker/real-port.js';
import { childrenOf, isAlive, trackPid } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';

const spec = (script: string) => ({ command: ['sh', '-c', script], cwd: process.cwd(), env: {}, stdin: 'ignore' as const, output: 'pipe' as const });

describe('the real process port', () => {
  it('stops a whole tree, grandchildren included', async () => {
    const child = await realPort.spawn(spec('sleep 30 & sleep 30 & wait'));
    trackPid(child.pid);
    const kids = await waitFor(() => (childrenOf(child.pid).length === 2 ? childrenOf(child.pid) : undefined), 'two sleeps');
    kids.forEach(trackPid);
    const res = await realPort.stopTree(child.id, { signal: 'SIGTERM', graceMs: 2000 });
    expect(res).toMatchObject({ gaveUp: false, treeSize: 3 });
    expect([child.pid, ...kids].filter(isAlive)).toEqual([]);
  });

  it('the last resort kills the group without reading /proc, and a gone group is no error', async () => {
    const child = await realPort.spawn(spec("trap '' TERM; sleep 30 & wait"));
    trackPid(child.pid);
    const kids = await waitFor(() => (childrenOf(child.pid).length === 1 ? childrenOf(child.pid) : undefined), 'a sleep');
    kids.forEach(trackPid);
    realPort.killGroup(child.pid);
    await waitFor(() => [child.pid, ...kids].every((p) => !isAlive(p)), 'the group gone');
    expect((await child.exited).signal).toBe('SIGKILL');
    expect(() => realPort.killGroup(child.pid)).not.toThrow();
  });

  it('finds what an exited child left behind', async () => {
    const child = await realPort.spawn(spec('sleep 30 & echo started'));
    trackPid(child.pid);
    await child.exited;
    const left = await realPort.captureTree(child.id);
    left.forEach((p) => trackPid(p.pid));
    expect(left).toHaveLength(1);
    await realPort.stopTree(child.id, { signal: 'SIGTERM', graceMs: 1000, captured: left });
    expect(left.filter((p) => isAlive(p.pid))).toEqual([]);
  });
});
