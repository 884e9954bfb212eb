import { linkSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ChangeSet } from '../../src/core/events.js';
import { WatchedTree } from '../../src/watch/tree.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const all = (c: ChangeSet): string[] => [...c.modified, ...c.added, ...c.removed].sort();

describe('a settled change on a small tree', () => {
  it('is reported for the settled paths first, then for what the look at the whole tree found, and settled() waits for both', async () => {
    const base = tempDir();
    const root = join(base, 'src');
    writeTree(root, { 'a/x.js': 'x1', 'b/y.js': 'y1' });
    // A second name for b/y.js outside the tree: a write through it reaches no watch of the tree,
    // like a change whose event is late or lost.
    mkdirSync(join(base, 'outside'));
    linkSync(join(root, 'b/y.js'), join(base, 'outside/y.js'));
    const reports: string[][] = [];
    const tree = new WatchedTree({ roots: [root], ignore: [], settleMs: 30, onWarning: () => undefined, onChange: (_s, c) => reports.push(all(c)) });
    try {
      const first = await tree.start();
      writeFileSync(join(base, 'outside/y.js'), 'y2');
      writeFileSync(join(root, 'a/x.js'), 'x2');
      await waitFor(() => reports.length > 0, 'a change reported');
      await tree.settled();
      expect(reports).toEqual([[join(root, 'a/x.js')], [join(root, 'b/y.js')]]);
      expect(tree.latest.codeId).not.toBe(first.codeId);
      expect([...tree.latest.files.keys()].sort()).toEqual([join(root, 'a/x.js'), join(root, 'b/y.js')]);
    } finally {
      await tree.close();
    }
  });
});
