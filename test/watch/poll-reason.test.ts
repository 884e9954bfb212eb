import { describe, expect, it } from 'vitest';
import { WatchedTree } from '../../src/watch/tree.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

describe('a tree polled because its filesystem was found unreliable', () => {
  it('says so in its fallback reason; one polled because the options asked does not', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': 'one' });
    const open = (poll: boolean) => new WatchedTree({ roots: [root], ignore: [], settleMs: 50, poll, onWarning: () => undefined, onChange: () => undefined });
    const forced = open(false);
    try {
      await forced.start(true);
      expect(forced.backend).toBe('chokidar');
      expect(forced.fallbackReason).toBe('change events are unreliable on this filesystem; polling');
    } finally {
      await forced.close();
    }
    const asked = open(true);
    try {
      await asked.start();
      expect(asked.backend).toBe('chokidar');
      expect(asked.fallbackReason).toBeUndefined();
    } finally {
      await asked.close();
    }
  });
});
