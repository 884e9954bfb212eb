import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { closeRigs, startRig } from './rig.js';

/** How many directories fs.watch may still watch before it fails as the kernel does at its limit. */
const budget = vi.hoisted(() => ({ left: Infinity, refused: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const watch = ((...args: Parameters<typeof fs.watch>) => {
    if (budget.left-- <= 0) {
      budget.refused++;
      throw Object.assign(new Error(`ENOSPC: System limit for number of file watchers reached, watch '${String(args[0])}'`), { code: 'ENOSPC' });
    }
    return fs.watch(...args);
  }) as typeof fs.watch;
  return { ...fs, default: { ...fs, watch }, watch };
});

afterEach(async () => {
  await closeRigs();
  budget.left = Infinity;
  budget.refused = 0;
});

describe('inotify backend at the watch limit', () => {
  it('out of watches at start: warns once and polls instead, still seeing changes', async () => {
    const root = tempDir();
    writeTree(root, { 'a/1.py': '', 'b/2.py': '', 'c/3.py': '', 'd/4.py': '' });
    budget.left = 2;
    const rig = await startRig([root], { name: 'inotify', backend: 'inotify', pollIntervalMs: 50 });
    expect(budget.refused).toBeGreaterThan(0);
    expect(rig.warnings.filter((w) => w.includes('fs.inotify.max_user_watches'))).toHaveLength(1);
    expect(rig.warnings.join('\n')).toContain('polling every 50 ms instead');
    // What the watching event reports says so too.
    expect(rig.watcher.backend).toBe('inotify');
    expect(rig.watcher.fallbackReason).toBe(`the kernel's inotify watch limit was reached; polling ${root} every 50 ms`);
    const file = join(root, 'c/3.py');
    writeFileSync(file, 'changed');
    await rig.waitEvent(['add', 'change'], file);
  });

  it('out of watches for a directory created later: moves to polling and still sees it', async () => {
    const root = tempDir();
    writeTree(root, { 'a/1.py': '' });
    budget.left = 2;
    const rig = await startRig([root], { name: 'inotify', backend: 'inotify', pollIntervalMs: 50 });
    expect(rig.warnings).toEqual([]);
    expect(rig.watcher.fallbackReason).toBeUndefined();
    writeTree(root, { 'new/deeper/x.py': 'x' });
    await rig.waitWarning('polling every 50 ms instead');
    // Once polling watches, it says so with a trigger for the whole root (whatever changed while
    // switching is re-read because of it); writes after it are its to see.
    await rig.waitEvent('addDir', root);
    const file = join(root, 'new/deeper/x.py');
    writeFileSync(file, 'changed');
    await rig.waitEvent(['add', 'change'], file);
    expect(rig.warnings.filter((w) => w.includes('fs.inotify.max_user_watches'))).toHaveLength(1);
  });
});
