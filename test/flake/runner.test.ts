import { describe, expect, it } from 'vitest';
import { wilson, zeroFailureUpperBound } from '../../src/history/stats.js';
import { runFlake, type FlakeProgress, type RunOutcome } from '../../src/flake/runner.js';
import { sequentialDesign } from '../../src/flake/sequential.js';

const pass = (durationMs = 10): RunOutcome => ({ exitCode: 0, signal: null, durationMs, output: 'ok' });
const fail = (output = 'boom', exitCode: number | null = 1, signal: string | null = null): RunOutcome => ({
  exitCode,
  signal,
  durationMs: 10,
  output,
});

/** Runs whose end the test decides, to pin down ordering without timing. */
function manualRuns() {
  const pending = new Map<number, (r: RunOutcome) => void>();
  const failers = new Map<number, (e: Error) => void>();
  const launched: number[] = [];
  return {
    launched,
    runOnce: (i: number) =>
      new Promise<RunOutcome>((resolve, reject) => {
        launched.push(i);
        pending.set(i, resolve);
        failers.set(i, reject);
      }),
    finish(i: number, r: RunOutcome) {
      const f = pending.get(i);
      if (!f) throw new Error(`run ${i} is not running`);
      pending.delete(i);
      f(r);
    },
    reject(i: number, e: Error) {
      pending.delete(i);
      failers.get(i)!(e);
    },
    running: () => [...pending.keys()].sort((a, b) => a - b),
  };
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('runFlake', () => {
  it('runs every index once, never more than `jobs` at a time', async () => {
    let now = 0;
    let max = 0;
    const seen: number[] = [];
    const progress: FlakeProgress[] = [];
    const report = await runFlake({
      n: 30,
      jobs: 4,
      runOnce: async (i) => {
        seen.push(i);
        max = Math.max(max, ++now);
        await new Promise((r) => setTimeout(r, (i * 7) % 5));
        now--;
        return pass(i);
      },
      onProgress: (p) => progress.push(p),
    });
    expect(max).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(Math.max(...progress.map((p) => p.running))).toBe(4);
    expect(report).toMatchObject({ requested: 30, runs: 30, passed: 30, failed: 0, stopped: null, discarded: 0 });
  });

  it('reports progress: running count, done counts up, ETA unknown until a run ends and 0 at the end', async () => {
    const m = manualRuns();
    const progress: FlakeProgress[] = [];
    const done = runFlake({ n: 4, jobs: 2, runOnce: m.runOnce, onProgress: (p) => progress.push(p) });
    await settle();
    expect(progress).toEqual([{ done: 0, failed: 0, running: 2, etaMs: null }]);
    m.finish(1, pass(100));
    await settle();
    // 3 runs left at 2 at a time take 2 rounds of the 100 ms mean... as 3 x 100 / 2.
    expect(progress.at(-1)).toEqual({ done: 1, failed: 0, running: 2, etaMs: 150 });
    for (const [i, r] of [[0, fail()], [2, pass(100)], [3, pass(100)]] as const) {
      m.finish(i, r);
      await settle();
    }
    await done;
    expect(progress.at(-1)).toEqual({ done: 4, failed: 1, running: 0, etaMs: 0 });
    expect(progress.map((p) => p.done)).toEqual([0, 1, 2, 3, 4]);
  });

  it('with untilFail launches nothing after the first failure and counts the runs in flight', async () => {
    const m = manualRuns();
    const done = runFlake({ n: 20, jobs: 3, untilFail: true, runOnce: m.runOnce });
    await settle();
    expect(m.running()).toEqual([0, 1, 2]);
    m.finish(1, pass());
    await settle();
    m.finish(0, pass());
    await settle();
    expect(m.running()).toEqual([2, 3, 4]);
    m.finish(4, fail('four'));
    await settle();
    expect(m.running()).toEqual([2, 3]);
    m.finish(3, fail('three'));
    await settle();
    m.finish(2, pass());
    const report = await done;
    expect(m.launched.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
    expect(report).toMatchObject({ requested: 20, runs: 5, passed: 3, failed: 2, stopped: 'first-failure', discarded: 0 });
    expect(report.firstFailures.map((f) => [f.index, f.output])).toEqual([
      [3, 'three'],
      [4, 'four'],
    ]);
  });

  it('with untilFail and no failure runs them all, and a failure in the last wave stops nothing', async () => {
    const all = await runFlake({ n: 5, jobs: 2, untilFail: true, runOnce: async () => pass() });
    expect(all).toMatchObject({ runs: 5, stopped: null });
    const last = await runFlake({ n: 5, jobs: 5, untilFail: true, runOnce: async (i) => (i === 4 ? fail() : pass()) });
    expect(last).toMatchObject({ runs: 5, failed: 1, stopped: null });
  });

  describe('with a sequential rule', () => {
    const classic = sequentialDesign(0.05, 0, 0.95);

    it('stops at the 59th pass and reports "fixed"', async () => {
      const report = await runFlake({ n: 500, jobs: 1, sequential: classic, runOnce: async () => pass() });
      expect(report).toMatchObject({ runs: 59, failed: 0, stopped: 'decided', verdict: 'fixed', discarded: 0 });
      expect(report.counted).toHaveLength(59);
    });

    it('decides in run order: a failing run that ends late still counts before the passes after it', async () => {
      const m = manualRuns();
      const decided: string[] = [];
      const done = runFlake({ n: 10, jobs: 3, sequential: classic, runOnce: m.runOnce, onDecided: (v) => decided.push(v) });
      await settle();
      // Runs 1 and 2 pass first; run 0, slower, fails.
      m.finish(1, pass());
      await settle();
      m.finish(2, pass());
      await settle();
      expect(decided).toEqual([]);
      expect(m.running()).toEqual([0, 3, 4]);
      m.finish(0, fail('slow failure'));
      await settle();
      expect(decided).toEqual(['not-fixed']);
      // Launches nothing more; the runs in flight end (the caller stops them) and are not counted.
      m.finish(3, pass());
      m.finish(4, fail());
      const report = await done;
      expect(m.launched.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4]);
      expect(report).toMatchObject({ runs: 1, failed: 1, passed: 0, verdict: 'not-fixed', stopped: 'decided', discarded: 4 });
      expect(report.counted).toEqual([0]);
      expect(report.firstFailures.map((f) => f.output)).toEqual(['slow failure']);
    });

    it('undecided at the cap', async () => {
      const d = sequentialDesign(0.05, 0.005, 0.95);
      const report = await runFlake({ n: 30, jobs: 2, sequential: d, runOnce: async (i) => (i === 7 ? fail() : pass()) });
      expect(report).toMatchObject({ runs: 30, failed: 1, stopped: null, verdict: 'undecided' });
    });

    it('undecided when aborted before a verdict', async () => {
      const ac = new AbortController();
      const report = await runFlake({
        n: 100,
        jobs: 1,
        sequential: classic,
        signal: ac.signal,
        runOnce: async (i) => {
          if (i === 4) ac.abort();
          return pass();
        },
      });
      expect(report).toMatchObject({ runs: 4, stopped: 'aborted', verdict: 'undecided', discarded: 1 });
    });
  });

  it('keeps the 3 failures with the lowest index, whatever order they end in', async () => {
    const m = manualRuns();
    const done = runFlake({ n: 6, jobs: 6, runOnce: m.runOnce });
    await settle();
    for (const i of [5, 4, 3, 2, 1, 0]) {
      m.finish(i, i === 3 ? pass() : fail(`out ${i}`, i === 1 ? null : 1, i === 1 ? 'SIGKILL' : null));
      await settle();
    }
    const report = await done;
    expect(report.failed).toBe(5);
    expect(report.firstFailures).toEqual([
      { index: 0, exitCode: 1, signal: null, output: 'out 0' },
      { index: 1, exitCode: null, signal: 'SIGKILL', output: 'out 1' },
      { index: 2, exitCode: 1, signal: null, output: 'out 2' },
    ]);
  });

  it('counts a signal or a null exit code as a failure', async () => {
    const outcomes = [pass(), fail('', 0, 'SIGTERM'), fail('', null, null), fail('', 2, null)];
    const report = await runFlake({ n: 4, jobs: 1, runOnce: async (i) => outcomes[i]! });
    expect(report.failed).toBe(3);
  });

  it('computes the statistics from the counted runs', async () => {
    const durations = [30, 10, 20, 40, 1000, 50, 60, 70, 80, 90];
    const report = await runFlake({
      n: 10,
      jobs: 3,
      runOnce: async (i) => ({ ...(i < 2 ? fail() : pass()), durationMs: durations[i]! }),
    });
    expect(report.failureRate).toEqual(wilson(2, 10));
    expect(report.upperBoundIfNone).toBeUndefined();
    expect(report.medianMs).toBe(55);
    expect(report.p95Ms).toBe(1000);

    const clean = await runFlake({ n: 50, jobs: 8, runOnce: async () => pass() });
    expect(clean.failureRate).toEqual(wilson(0, 50));
    expect(clean.upperBoundIfNone).toBe(zeroFailureUpperBound(50));
  });

  it('on abort launches nothing more, waits for the runs in flight and does not count them', async () => {
    const m = manualRuns();
    const ac = new AbortController();
    const done = runFlake({ n: 10, jobs: 2, runOnce: m.runOnce, signal: ac.signal });
    await settle();
    m.finish(0, pass());
    await settle();
    expect(m.running()).toEqual([1, 2]);
    ac.abort();
    m.finish(1, fail('killed', null, 'SIGINT'));
    await settle();
    expect(m.running()).toEqual([2]);
    let resolved = false;
    void done.then(() => (resolved = true));
    await settle();
    expect(resolved).toBe(false);
    m.finish(2, fail('killed', null, 'SIGINT'));
    const report = await done;
    expect(m.launched).toHaveLength(3);
    expect(report).toMatchObject({ runs: 1, passed: 1, failed: 0, stopped: 'aborted', discarded: 2 });
  });

  it('aborted before anything ran: an empty report that claims nothing', async () => {
    const ac = new AbortController();
    ac.abort();
    let calls = 0;
    const report = await runFlake({ n: 5, jobs: 2, signal: ac.signal, runOnce: async () => (calls++, pass()) });
    expect(calls).toBe(0);
    expect(report.runs).toBe(0);
    expect(report.stopped).toBe('aborted');
    expect(report.failureRate).toEqual({ rate: NaN, low: 0, high: 1 });
    expect(report.upperBoundIfNone).toBeUndefined();
    expect(report.medianMs).toBeNaN();
  });

  it('when runOnce rejects, stops launching, lets the others settle, then rejects', async () => {
    const m = manualRuns();
    const done = runFlake({ n: 10, jobs: 3, runOnce: m.runOnce });
    let settled = false;
    done.catch(() => undefined).finally(() => (settled = true));
    await settle();
    m.reject(1, new Error('spawn ENOENT'));
    await settle();
    expect(m.running()).toEqual([0, 2]);
    m.finish(0, pass());
    await settle();
    expect(settled).toBe(false);
    expect(m.running()).toEqual([2]);
    m.finish(2, pass());
    await expect(done).rejects.toThrow('spawn ENOENT');
    expect(m.launched).toHaveLength(3);
  });

  it('a throwing onProgress is reported the same way, after the runs in flight end', async () => {
    let calls = 0;
    const done = runFlake({
      n: 10,
      jobs: 2,
      runOnce: async () => (calls++, pass()),
      onProgress: (p) => {
        if (p.done === 1) throw new Error('render failed');
      },
    });
    await expect(done).rejects.toThrow('render failed');
    expect(calls).toBeLessThanOrEqual(3);
  });

  it('handles jobs > n and rejects nonsense counts', async () => {
    expect((await runFlake({ n: 2, jobs: 16, runOnce: async () => pass() })).runs).toBe(2);
    const runOnce = async (): Promise<RunOutcome> => pass();
    await expect(runFlake({ n: 0, jobs: 1, runOnce })).rejects.toThrow(RangeError);
    await expect(runFlake({ n: 5, jobs: 0, runOnce })).rejects.toThrow(RangeError);
    await expect(runFlake({ n: 2.5, jobs: 1, runOnce })).rejects.toThrow(RangeError);
  });
});
