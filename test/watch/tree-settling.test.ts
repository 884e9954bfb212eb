import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChangeSet } from '../../src/core/events.js';
import { WatchedTree } from '../../src/watch/tree.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

afterAll(removeTempDirs);

describe('WatchedTree.settling', () => {
  it('is true from the event until the change is reported, and whenSettled resolves after the report', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': 'a1' });
    const changes: ChangeSet[] = [];
    const tree = new WatchedTree({ roots: [root], ignore: [], settleMs: 300, onWarning: () => undefined, onChange: (_, c) => changes.push(c) });
    try {
      await tree.start();
      expect(tree.settling).toBe(false);
      await tree.whenSettled(); // nothing pending: at once

      writeFileSync(join(root, 'a.js'), 'a2');
      await waitFor(() => tree.settling, 'the event to be heard of');
      const reportsWhenSettled = tree.whenSettled().then(() => changes.length);
      expect(await reportsWhenSettled).toBe(1);
      expect(tree.settling).toBe(false);
    } finally {
      await tree.close();
    }
  });

  it('whenSettled resolves on close, for a change that will never be looked at', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': 'a1' });
    const tree = new WatchedTree({ roots: [root], ignore: [], settleMs: 60_000, onWarning: () => undefined, onChange: () => undefined });
    await tree.start();
    writeFileSync(join(root, 'a.js'), 'a2');
    await waitFor(() => tree.settling, 'the event to be heard of');
    const settled = tree.whenSettled();
    await tree.close();
    await settled;
  });
});
