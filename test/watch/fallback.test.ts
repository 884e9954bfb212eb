import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFilter } from '../../src/watch/filter.js';
import { createWatcher } from '../../src/watch/watcher.js';
import { tempDir } from '../helpers/tmp.js';
import { closeRigs, startRig } from './rig.js';

// What a machine without the native binary looks like: the package itself throws on import.
vi.mock('@parcel/watcher', () => {
  throw new Error('No prebuild or local build of @parcel/watcher found (simulated)');
});

afterEach(closeRigs);

describe('when @parcel/watcher cannot load', () => {
  it('auto falls back to chokidar where parcel is the default, says why, and still reports changes', async () => {
    const root = tempDir();
    const rig = await startRig([root], { name: 'auto', backend: 'parcel' }, {}, { backend: 'auto', platform: 'darwin' });
    expect(rig.watcher.backend).toBe('chokidar');
    expect(rig.watcher.fallbackReason).toMatch(/^@parcel\/watcher could not be loaded: .+; using chokidar$/s);
    const file = join(root, 'a.py');
    writeFileSync(file, '');
    await rig.waitEvent(['add', 'change'], file);
  });

  it('auto on Linux needs no native module', async () => {
    const root = tempDir();
    const rig = await startRig([root], { name: 'auto', backend: 'parcel' }, {}, { backend: 'auto', platform: 'linux' });
    expect(rig.watcher.backend).toBe('inotify');
    expect(rig.watcher.fallbackReason).toBeUndefined();
    const file = join(root, 'a.py');
    writeFileSync(file, '');
    await rig.waitEvent(['add', 'change'], file);
  });

  it('an explicit parcel backend fails instead', async () => {
    const root = tempDir();
    const start = createWatcher({
      roots: [root],
      filter: createFilter({ roots: [root] }),
      backend: 'parcel',
      onEvents: () => undefined,
      onWarning: () => undefined,
    });
    await expect(start).rejects.toThrow(/@parcel\/watcher could not be loaded/);
  });
});
