import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { closeRigs, startRig } from './rig.js';

const hooks = vi.hoisted(() => ({ onReady: undefined as (() => void) | undefined }));

// Lets the test write at the very moment chokidar says it is ready, before its first stats land.
vi.mock('chokidar', async (importOriginal) => {
  const real = await importOriginal<typeof import('chokidar')>();
  const watch: typeof real.watch = (paths, options) => {
    const w = real.watch(paths, options);
    w.prependOnceListener('ready', () => hooks.onReady?.());
    return w;
  };
  return { ...real, watch };
});

afterEach(closeRigs);

it('polling reports, and keeps polling, a file created the moment chokidar is ready', async () => {
  for (let i = 0; i < 20; i++) {
    const root = tempDir();
    const file = join(root, 'born-at-ready.py');
    hooks.onReady = () => writeFileSync(file, 'one');
    const rig = await startRig([root], { name: 'polling', backend: 'chokidar', poll: true, pollIntervalMs: 50 });
    hooks.onReady = undefined;
    await rig.waitEvent(['add', 'change'], file, 5000);
    rig.events.length = 0;
    writeFileSync(file, 'two, longer');
    await rig.waitEvent('change', file, 5000);
    await closeRigs();
  }
  expect(true).toBe(true);
});
