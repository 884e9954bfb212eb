import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classify } from '../../src/cli/control/status.js';
import { Bus } from '../../src/core/bus.js';
import type { DevsupEvent } from '../../src/core/events.js';
import { viewOf } from '../../src/supervisor/view.js';
import type { Snapshot } from '../../src/watch/snapshot.js';
import { Worker, type WorkerSpec } from '../../src/worker/worker.js';
import { specIn } from './machine-kit.js';
import { FIXTURES } from '../control/apps.js';
import { trackPid } from '../helpers/procs.js';
import { removeTempDirs, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

afterAll(removeTempDirs);

function spec(root: string): WorkerSpec {
  return specIn(root, ['node', join(FIXTURES, 'ready.mjs')], { ready: { log: /^READY/ } });
}

function deferred<T>(): { promise: Promise<T>; resolve(v: T): void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a generation started on a provisional snapshot', () => {
  it('is "checking" until the files are compared, then fresh on the real snapshot', async () => {
    const bus = new Bus();
    const events: DevsupEvent[] = [];
    bus.on((e) => events.push(e));
    const provisional: Snapshot = { seq: 0, files: new Map(), codeId: 'a1b2c3d4e5', provisional: true };
    const real: Snapshot = { seq: 1, files: new Map(), codeId: 'a1b2c3d4e5' };
    const verified = deferred<Snapshot>();
    const worker = new Worker(spec(tempDir()), bus, { latest: () => provisional, verified: () => verified.promise });
    try {
      await worker.start();
      trackPid(worker.status().pid ?? undefined);
      await waitFor(() => events.find((e) => e.type === 'ready'), 'ready');
      expect(events.find((e) => e.type === 'worker-started')).toMatchObject({ codeId: 'a1b2c3d4e5', provisional: true });
      const view = viewOf(worker);
      expect(view.verdict).toBe('checking');
      expect(classify(view)).toEqual({ status: 'checking', ok: false });
      expect(worker.status().checking).toBe(true);

      verified.resolve(real);
      await waitFor(() => events.find((e) => e.type === 'fresh'), 'the fresh event');
      expect(viewOf(worker).verdict).toBe('fresh');
      expect(worker.status().spawnSnapshot).toBe(real);
      expect(worker.status().checking).toBe(false);
      expect(events.filter((e) => e.type === 'worker-started')).toHaveLength(1);
    } finally {
      await worker.shutdown();
    }
  });

  it('stays as it is when the real snapshot differs: the change that follows makes it stale', async () => {
    const bus = new Bus();
    const events: DevsupEvent[] = [];
    bus.on((e) => events.push(e));
    const provisional: Snapshot = { seq: 0, files: new Map(), codeId: 'a1b2c3d4e5', provisional: true };
    const verified = deferred<Snapshot>();
    const worker = new Worker(spec(tempDir()), bus, { latest: () => provisional, verified: () => verified.promise });
    try {
      await worker.start();
      trackPid(worker.status().pid ?? undefined);
      verified.resolve({ seq: 1, files: new Map(), codeId: 'ffffffffff' });
      await verified.promise;
      // The worker applies its inputs in order: once a later one is done, the verdict has been applied.
      await worker.stop();
      expect(events.some((e) => e.type === 'fresh')).toBe(false);
      expect(worker.status().spawnSnapshot).toBe(provisional);
    } finally {
      await worker.shutdown();
    }
  });
});
