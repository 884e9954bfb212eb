import type { DevsupError } from '../../src/core/errors.js';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import type { DevsupEvent, TaskResult } from '../../src/core/events.js';
import { LineTail, recordTaskRuns, type RecordedRun, type RecorderOptions } from '../../src/history/recorder.js';
import { readRuns } from '../../src/history/store.js';
import type { SupervisorApi } from '../../src/supervisor/api.js';
import { tempDir } from '../helpers/tmp.js';

/** Only subscribe is used; anything else the recorder touched would throw. */
function fakeApi(bus: Bus): SupervisorApi {
  return new Proxy({ subscribe: (l: (e: DevsupEvent) => void) => bus.on(l) } as SupervisorApi, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof SupervisorApi];
      throw new Error(`recorder used api.${String(prop)}`);
    },
  });
}

function started(worker: string, generation: number, codeId: string, changes?: string[]): DevsupEvent {
  return {
    type: 'worker-started',
    worker,
    generation,
    pid: 1000 + generation,
    codeId,
    startedAt: new Date(Date.UTC(2025, 0, 2, 3, 4, generation)).toISOString(),
    spawnMs: 3,
    restart: changes ? { reason: 'change', changes: { added: [], modified: changes, removed: [] } } : { reason: 'initial' },
  };
}

function finished(worker: string, generation: number, result: TaskResult, over: Partial<Extract<DevsupEvent, { type: 'task-finished' }>> = {}): DevsupEvent {
  return { type: 'task-finished', worker, generation, result, code: result === 'passed' ? 0 : 1, signal: null, durationMs: 250, changedFiles: 0, ...over };
}

const out = (worker: string, generation: number, line: string, stream: 'stdout' | 'stderr' = 'stdout'): DevsupEvent => ({
  type: 'output',
  worker,
  generation,
  stream,
  line,
});

function setup(opts: RecorderOptions = {}) {
  const bus = new Bus();
  const dir = join(tempDir(), '.devsup');
  const errors: unknown[] = [];
  const rec = recordTaskRuns(fakeApi(bus), dir, { lateOutputMs: 0, onError: (e) => errors.push(e), ...opts });
  return { bus, dir, errors, rec };
}

describe('recordTaskRuns', () => {
  it('appends one record per finished run, with code id, changes and that generation’s output', async () => {
    const { bus, dir, errors, rec } = setup();
    bus.emit(started('tests', 1, 'a1b2c3d4e5'));
    bus.emit(out('tests', 1, 'collecting'));
    bus.emit(started('lint', 1, 'zzzz'));
    bus.emit(out('lint', 1, 'lint output'));
    bus.emit(out('tests', 1, '1 passed', 'stderr'));
    bus.emit(finished('tests', 1, 'passed'));
    bus.emit(started('tests', 2, 'c3d4e5f6a7', ['src/a.ts', 'src/b.ts']));
    bus.emit(out('tests', 2, 'AssertionError: 1 !== 2'));
    bus.emit(finished('tests', 2, 'failed', { code: 1, durationMs: 900, changedFiles: 2 }));
    bus.emit(started('tests', 3, 'c3d4e5f6a7'));
    bus.emit(out('tests', 3, 'half way'));
    bus.emit(finished('tests', 3, 'cancelled', { code: null, signal: 'SIGTERM', changedFiles: 0 }));
    await rec.idle();

    const runs = (await readRuns(dir)) as RecordedRun[];
    expect(errors).toEqual([]);
    expect(runs.map((r) => [r.worker, r.generation, r.result, r.codeId])).toEqual([
      ['tests', 3, 'cancelled', 'c3d4e5f6a7'],
      ['tests', 2, 'failed', 'c3d4e5f6a7'],
      ['tests', 1, 'passed', 'a1b2c3d4e5'],
    ]);
    const [third, second, first] = runs;
    expect(second).toMatchObject({
      v: 1,
      changedFiles: ['src/a.ts', 'src/b.ts'],
      changedCount: 2,
      startedAt: '2025-01-02T03:04:02.000Z',
      durationMs: 900,
      exitCode: 1,
      signal: null,
    });
    expect(third).toMatchObject({ exitCode: null, signal: 'SIGTERM', changedFiles: [], changedCount: 0 });
    expect(readFileSync(first!.log!, 'utf8')).toBe('collecting\n1 passed\n');
    expect(readFileSync(second!.log!, 'utf8')).toBe('AssertionError: 1 !== 2\n');
    expect(readFileSync(third!.log!, 'utf8')).toBe('half way\n');
    expect(first!.log).toContain(join(dir, 'logs', 'tests'));
    rec();
  });

  it('waits for output that arrives just after the run finished', async () => {
    const { bus, dir, rec } = setup({ lateOutputMs: 100 });
    bus.emit(started('tests', 1, 'abc'));
    bus.emit(out('tests', 1, 'early'));
    bus.emit(finished('tests', 1, 'failed'));
    await new Promise((r) => setTimeout(r, 10));
    bus.emit(out('tests', 1, 'the last line, drained after the exit'));
    // The next generation starting must not throw away what the finished one still collects.
    bus.emit(started('tests', 2, 'abc'));
    await rec.idle();
    const [run] = await readRuns(dir);
    expect(readFileSync(run!.log!, 'utf8')).toBe('early\nthe last line, drained after the exit\n');
    rec();
  });

  it('writes a finished run as soon as its output has ended, without waiting out the late-output time', async () => {
    const { bus, dir, rec } = setup({ lateOutputMs: 10_000 });
    bus.emit(started('tests', 1, 'abc'));
    bus.emit(out('tests', 1, 'before the exit'));
    bus.emit(finished('tests', 1, 'passed'));
    bus.emit(out('tests', 1, 'drained after the exit'));
    bus.emit({ type: 'output-ended', worker: 'tests', generation: 1 });
    // Output that ended before the exit was seen counts the same.
    bus.emit(started('tests', 2, 'abc'));
    bus.emit(out('tests', 2, 'all of it'));
    bus.emit({ type: 'output-ended', worker: 'tests', generation: 2 });
    bus.emit(finished('tests', 2, 'failed'));
    const t0 = performance.now();
    await rec.idle();
    expect(performance.now() - t0).toBeLessThan(5000);
    const runs = await readRuns(dir);
    expect(runs.map((r) => r.generation)).toEqual([2, 1]);
    expect(readFileSync(runs[1]!.log!, 'utf8')).toBe('before the exit\ndrained after the exit\n');
    expect(readFileSync(runs[0]!.log!, 'utf8')).toBe('all of it\n');
    rec();
  });

  it('waits while output of a finished run still streams in, so the log ends with its last line', async () => {
    const { bus, dir, rec } = setup({ lateOutputMs: 60 });
    bus.emit(started('tests', 1, 'abc'));
    bus.emit(finished('tests', 1, 'passed'));
    // Still draining well past the 60 ms: a line at every turn of the event loop for 300 ms.
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 300) {
      bus.emit(out('tests', 1, `late ${n++}`));
      await new Promise((r) => setImmediate(r));
    }
    await rec.idle();
    const [run] = await readRuns(dir);
    expect(readFileSync(run!.log!, 'utf8').trim().split('\n').at(-1)).toBe(`late ${n - 1}`);
    rec();
  });

  it('keeps only the last lines of a flood, and the last N logs per worker', async () => {
    const { bus, dir, rec } = setup({ maxLines: 5, keep: 2 });
    for (let g = 1; g <= 4; g++) {
      bus.emit(started('tests', g, 'abc'));
      for (let i = 1; i <= 20; i++) bus.emit(out('tests', g, `gen ${g} line ${i}`));
      bus.emit(finished('tests', g, 'failed'));
    }
    await rec.idle();
    const runs = await readRuns(dir);
    expect(runs).toHaveLength(4);
    expect(readFileSync(runs[0]!.log!, 'utf8')).toBe(
      ['[devsup] 15 earlier lines not kept', ...[16, 17, 18, 19, 20].map((i) => `gen 4 line ${i}`)].join('\n') + '\n',
    );
    expect(readdirSync(join(dir, 'logs', 'tests')).sort()).toEqual(
      [runs[0]!.log!, runs[1]!.log!].map((p) => p.slice(p.lastIndexOf('/') + 1)).sort(),
    );
  });

  it('records a run without output without a log, and one it did not see start with what it has', async () => {
    const { bus, dir, rec } = setup();
    bus.emit(finished('tests', 7, 'passed', { durationMs: 1000 }));
    await rec.idle();
    const [run] = await readRuns(dir);
    expect(run).toMatchObject({ worker: 'tests', generation: 7, codeId: '', result: 'passed', changedFiles: [] });
    expect(run!.log).toBeUndefined();
    expect(Math.abs(Date.parse(run!.startedAt) - (Date.now() - 1000))).toBeLessThan(5000);
  });

  it('hands write failures to onError and keeps going, never throwing into the bus', async () => {
    const bus = new Bus();
    const file = join(tempDir(), 'not-a-dir');
    writeFileSync(file, '');
    const errors: unknown[] = [];
    const rec = recordTaskRuns(fakeApi(bus), join(file, '.devsup'), { lateOutputMs: 0, onError: (e) => errors.push(e) });
    bus.emit(started('tests', 1, 'abc'));
    bus.emit(out('tests', 1, 'x'));
    bus.emit(finished('tests', 1, 'failed'));
    bus.emit(finished('tests', 2, 'passed'));
    await rec.idle();
    // Per run: the log could not be saved, then the record could not be appended; the second has no log.
    // Each a typed error that says where and why: a file stands where .devsup's parent should be.
    expect(errors.map((e) => (e as DevsupError).code)).toEqual(['state', 'state', 'state']);
    for (const e of errors) expect((e as Error).message).toBe(`cannot write ${join(file, '.devsup')}: a part of the path is not a directory`);
  });

  it('records nothing after unsubscribing', async () => {
    const { bus, dir, rec } = setup();
    rec();
    bus.emit(started('tests', 1, 'abc'));
    bus.emit(finished('tests', 1, 'passed'));
    await rec.idle();
    expect(await readRuns(dir)).toEqual([]);
  });
});

describe('LineTail', () => {
  it('bounds by characters as well as lines, keeping at least the last line', () => {
    const t = new LineTail(100, 25);
    for (const l of ['aaaaaaaaaa', 'bbbbbbbbbb', 'cccccccccc']) t.push(l);
    expect(t.text()).toBe('[devsup] 1 earlier lines not kept\nbbbbbbbbbb\ncccccccccc\n');
    t.push('x'.repeat(100));
    expect(t.text()).toBe(`[devsup] 3 earlier lines not kept\n${'x'.repeat(100)}\n`);
    expect(new LineTail().empty).toBe(true);
  });
});
