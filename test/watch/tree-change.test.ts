import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { ChangeSet } from '../../src/core/events.js';
import { Snapshotter } from '../../src/watch/snapshot.js';
import { WHOLE_LOOK_DELAY_MS, WatchedTree, type TreeOptions } from '../../src/watch/tree.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const all = (c: ChangeSet): string[] => [...c.modified, ...c.added, ...c.removed].sort();

/**
 * A tree with two files, and a second name for b/y.js outside it: a write through that name
 * reaches no watch of the tree, like a change whose event is late or lost.
 */
function project() {
  const base = tempDir();
  const root = join(base, 'src');
  writeTree(root, { 'a/x.js': 'x1', 'b/y.js': 'y1' });
  mkdirSync(join(base, 'outside'));
  linkSync(join(root, 'b/y.js'), join(base, 'outside/y.js'));
  const reports: { at: number; paths: string[] }[] = [];
  const opts: TreeOptions = { roots: [root], ignore: [], settleMs: 30, onWarning: () => undefined, onChange: (_s, c) => reports.push({ at: performance.now(), paths: all(c) }) };
  return { root, x: join(root, 'a/x.js'), y: join(root, 'b/y.js'), unseen: join(base, 'outside/y.js'), reports, opts };
}

describe('a settled change on a small tree', () => {
  it('is reported for the settled paths at once; the look at the whole tree comes after a delay, and settled() does not wait for it', async () => {
    const p = project();
    const tree = new WatchedTree({ ...p.opts, backend: 'inotify' });
    try {
      const first = await tree.start();
      writeFileSync(p.unseen, 'y2');
      writeFileSync(p.x, 'x2');
      await waitFor(() => p.reports.length > 0, 'a change reported');
      const reported = p.reports[0]!.at;
      await tree.settled();
      expect(p.reports.map((r) => r.paths)).toEqual([[p.x]]);
      // The whole look finds the write no event told of, as a change of its own.
      await waitFor(() => p.reports.length > 1, 'the whole look reported', WHOLE_LOOK_DELAY_MS + 5000);
      expect(p.reports.map((r) => r.paths)).toEqual([[p.x], [p.y]]);
      expect(p.reports[1]!.at - reported).toBeGreaterThanOrEqual(WHOLE_LOOK_DELAY_MS - 50);
      expect(tree.latest.codeId).not.toBe(first.codeId);
      expect([...tree.latest.files.keys()].sort()).toEqual([p.x, p.y]);
    } finally {
      await tree.close();
    }
  });

  it('a barrier meanwhile (wait-fresh) sees the write no event told of at once, without waiting for the look put off', async () => {
    const p = project();
    const tree = new WatchedTree({ ...p.opts, backend: 'inotify' });
    try {
      await tree.start();
      writeFileSync(p.unseen, 'y2');
      writeFileSync(p.x, 'x2');
      await waitFor(() => p.reports.length > 0, 'a change reported');
      await tree.barrier();
      expect(p.reports.map((r) => r.paths)).toEqual([[p.x], [p.y]]);
      await new Promise((r) => setTimeout(r, WHOLE_LOOK_DELAY_MS + 200));
      expect(p.reports).toHaveLength(2);
    } finally {
      await tree.close();
    }
  });

  it('with the chokidar backend, whose events can trail the writes, the whole tree is looked at at once and settled() waits for it', async () => {
    const p = project();
    const tree = new WatchedTree({ ...p.opts, backend: 'chokidar' });
    // chokidar watches each file, so it hears the write through the second name too: what tells
    // the two policies apart is when the look at every file happens.
    const wholeLooks = vi.spyOn(Snapshotter.prototype, 'take');
    try {
      await tree.start();
      expect(tree.backend).toBe('chokidar');
      wholeLooks.mockClear();
      writeFileSync(p.x, 'x2');
      await waitFor(() => p.reports.length > 0, 'a change reported');
      await tree.settled();
      expect(wholeLooks).toHaveBeenCalledTimes(1);
      expect(p.reports.map((r) => r.paths)).toEqual([[p.x]]);
    } finally {
      wholeLooks.mockRestore();
      await tree.close();
    }
  });
});
