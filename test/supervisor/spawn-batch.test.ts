import { describe, expect, it } from 'vitest';
import type { Child, SpawnSpec } from '../../src/process/spawn.js';
import { SpawnBatch } from '../../src/supervisor/spawn-batch.js';
import type { ProcessPort } from '../../src/worker/port.js';

/** A port that records, synchronously, the order in which spawns reached it. */
function recordingPort(log: string[], fail?: string): ProcessPort {
  return {
    spawn(spec: SpawnSpec): Promise<Child> {
      const name = String(spec.command);
      log.push(name);
      if (name === fail) return Promise.reject(new Error(`cannot start ${name}`));
      return Promise.resolve({ pid: log.length, id: { pid: log.length, start: '1' }, token: name, exited: new Promise(() => undefined) });
    },
    stopTree: () => Promise.reject(new Error('not used')),
    captureTree: () => Promise.resolve([]),
    killGroup: () => undefined,
  };
}

const spec = (name: string): SpawnSpec => ({ command: name, cwd: '/', env: {}, stdin: 'ignore', output: 'pipe' });

describe('spawns of workers started together', () => {
  it('wait until every worker of the batch is ready to spawn, then go in one turn, in arrival order', async () => {
    const log: string[] = [];
    const batch = new SpawnBatch(10_000);
    const base = recordingPort(log);
    batch.hold(['a', 'b', 'c']);
    const pb = batch.port('b', base).spawn(spec('b'));
    const pa = batch.port('a', base).spawn(spec('a'));
    await new Promise((r) => setImmediate(r));
    expect(log).toEqual([]);
    expect(batch.holding).toBe(true);
    const pc = batch.port('c', base).spawn(spec('c'));
    // The last arrival releases all of them at once, before anything else runs.
    expect(log).toEqual(['b', 'a', 'c']);
    expect((await Promise.all([pa, pb, pc])).map((c) => c.token)).toEqual(['a', 'b', 'c']);
    expect(batch.holding).toBe(false);
  });

  it('does not wait longer than its bound for a worker that never spawns', async () => {
    const log: string[] = [];
    const batch = new SpawnBatch(30);
    const base = recordingPort(log);
    batch.hold(['a', 'never']);
    const t0 = Date.now();
    const child = await batch.port('a', base).spawn(spec('a'));
    expect(child.token).toBe('a');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(Date.now() - t0).toBeLessThan(2000);
    // The latecomer is no longer held.
    batch.port('never', base).spawn(spec('never')).catch(() => undefined);
    expect(log).toEqual(['a', 'never']);
  });

  it('lets a worker outside the batch, and every later spawn, through at once', async () => {
    const log: string[] = [];
    const batch = new SpawnBatch(10_000);
    const base = recordingPort(log);
    batch.hold(['a', 'b']);
    void batch.port('other', base).spawn(spec('other'));
    expect(log).toEqual(['other']);
    void batch.port('a', base).spawn(spec('a'));
    void batch.port('b', base).spawn(spec('b'));
    expect(log).toEqual(['other', 'a', 'b']);
    // A restart of a worker of the batch is not held again.
    void batch.port('a', base).spawn(spec('a'));
    expect(log).toEqual(['other', 'a', 'b', 'a']);
  });

  it("hands each worker its own spawn's failure", async () => {
    const log: string[] = [];
    const batch = new SpawnBatch(10_000);
    const base = recordingPort(log, 'bad');
    batch.hold(['bad', 'good']);
    const bad = batch.port('bad', base).spawn(spec('bad'));
    const good = batch.port('good', base).spawn(spec('good'));
    await expect(bad).rejects.toThrow('cannot start bad');
    expect((await good).token).toBe('good');
  });
});

describe('the leaders of a batch', () => {
  it('spawn first, whenever they arrived', async () => {
    const log: string[] = [];
    const batch = new SpawnBatch(10_000);
    const base = recordingPort(log);
    batch.hold(['a', 'dep', 'b'], ['dep']);
    void batch.port('a', base).spawn(spec('a'));
    void batch.port('b', base).spawn(spec('b'));
    void batch.port('dep', base).spawn(spec('dep'));
    expect(log).toEqual(['dep', 'a', 'b']);
  });
});

describe('a leader whose steps take longer than the others', () => {
  it('is waited for past the others\' bound, and leads once it comes', async () => {
    const log: string[] = [];
    const batch = new SpawnBatch(20, 5_000);
    const base = recordingPort(log);
    batch.hold(['a', 'dep'], ['dep']);
    void batch.port('a', base).spawn(spec('a'));
    await new Promise((r) => setTimeout(r, 80));
    expect(log).toEqual([]);
    void batch.port('dep', base).spawn(spec('dep'));
    expect(log).toEqual(['dep', 'a']);
  });

  it('is not waited for beyond its own bound', async () => {
    const log: string[] = [];
    const batch = new SpawnBatch(20, 120);
    const base = recordingPort(log);
    batch.hold(['a', 'dep'], ['dep']);
    const t0 = Date.now();
    await batch.port('a', base).spawn(spec('a'));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(100);
    expect(log).toEqual(['a']);
  });
});
