import { describe, expect, it } from 'vitest';
import { stopStale } from '../../src/stale/kill.js';
import { scanProject, type ProjectProcess } from '../../src/stale/scan.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { SERVER_JS, alive, gone, killAll, startReady, type Started } from './project.js';

/** The scan's own record of `p`, seen from the runner's parent (devsup leaves out its own children). */
async function recordOf(root: string, p: Started): Promise<ProjectProcess> {
  const scan = await scanProject(root, { selfPid: process.ppid });
  const rec = scan.processes.find((x) => x.pid === p.id.pid);
  if (!rec) throw new Error(`pid ${p.id.pid} not found by the scan`);
  return rec;
}

describe('stopStale guards', () => {
  it('leaves alone a tree that holds devsup or its callers or a devsup supervisor, another user\'s tree, a supervised process, and a pid now naming another process', async () => {
    const root = tempDir('devsup-kill-guards-');
    writeTree(root, { 'server.js': SERVER_JS });
    let p: Started | undefined;
    try {
      p = await startReady([process.execPath, 'server.js'], root);
      const rec = await recordOf(root, p);

      // As if devsup were the child: the target is then one of its ancestors' trees.
      const asChild = await stopStale([rec], { selfPid: p.child!.pid });
      expect(asChild).toEqual([expect.objectContaining({ pid: p.id.pid, result: 'skipped' })]);
      expect(asChild[0]!.reason).toMatch(/devsup itself or the shell it runs in/);

      const foreign = await stopStale([rec], { uid: (process.getuid?.() ?? 0) + 4242 });
      expect(foreign[0]).toMatchObject({ result: 'skipped', reason: expect.stringMatching(/belongs to another user/) });

      // A devsup supervisor in the tree (here its child stands for one), and a process devsup supervises.
      const guarded = await stopStale([rec], { protect: new Map([[p.child!.pid, `pid ${p.child!.pid}, a devsup supervisor`]]) });
      expect(guarded[0]).toMatchObject({ result: 'skipped', reason: `its process tree holds pid ${p.child!.pid}, a devsup supervisor` });
      const supervised = await stopStale([{ ...rec, supervisedBy: { supervisorPid: 4242, worker: 'web', verdict: 'stale', staleFiles: [] } }]);
      expect(supervised[0]).toMatchObject({ result: 'skipped', reason: 'devsup (pid 4242) supervises it; devsup restart web restarts it' });

      const reused = await stopStale([{ ...rec, start: String(Number(rec.start) + 1) }]);
      expect(reused[0]).toMatchObject({ result: 'gone' });

      expect(alive(p.id)).toBe(true);
      expect(alive(p.child)).toBe(true);

      // A target inside another target's tree is stopped with it, not on its own.
      const child = { ...rec, pid: p.child!.pid, start: p.child!.start, startMs: rec.startMs + 1 };
      const both = await stopStale([child, rec], { graceMs: 1000 });
      expect(Object.fromEntries(both.map((o) => [o.pid, o.result]))).toEqual({
        [p.id.pid]: 'stopped',
        [p.child!.pid]: 'covered',
      });
      await gone(p.id, 'the target');
      await gone(p.child, 'its child');
    } finally {
      await killAll(p);
    }
  });
});
