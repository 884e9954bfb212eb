import { describe, expect, it } from 'vitest';
import { formatDuration, formatFlakeReport } from '../../src/flake/report.js';
import { runFlake, type RunOutcome } from '../../src/flake/runner.js';

const outcome = (fails: boolean, output = '', durationMs = 1200): RunOutcome => ({
  exitCode: fails ? 1 : 0,
  signal: null,
  durationMs,
  output,
});

describe('formatFlakeReport', () => {
  it('0 of 50: the one-sided upper bound sentence', async () => {
    const report = await runFlake({ n: 50, jobs: 4, runOnce: async () => outcome(false) });
    expect(formatFlakeReport(report)).toEqual([
      '0 of 50 failed: failure rate below 5.8% with 95% confidence',
      'run time: median 1.2s, p95 1.2s',
    ]);
  });

  it('7 of 50: rate and Wilson interval, then the first failures with the tail of their output', async () => {
    const failing = new Set([2, 9, 11, 20, 31, 40, 44]);
    const output = (i: number): string => ['starting', 'step 1', 'step 2', 'step 3', 'step 4', 'step 5', `assert failed in run ${i}`, ''].join('\n');
    const report = await runFlake({
      n: 50,
      jobs: 3,
      runOnce: async (i) => outcome(failing.has(i), failing.has(i) ? output(i) : 'ok', 100 * (i + 1)),
    });
    const lines = formatFlakeReport(report);
    expect(lines.slice(0, 3)).toEqual([
      '7 of 50 failed: failure rate 14.0% (95% CI 7.0%–26.2%)',
      'run time: median 2.5s, p95 4.8s',
      'first 3 failures (4 more not shown):',
    ]);
    expect(lines.slice(3, 10)).toEqual([
      '  run 3: exit code 1',
      '    | step 2',
      '    | step 3',
      '    | step 4',
      '    | step 5',
      '    | assert failed in run 2',
      '  run 10: exit code 1',
    ]);
    expect(lines).toHaveLength(3 + 3 * 6);
  });

  it('names signals and runs that never started', async () => {
    const outcomes: RunOutcome[] = [
      { exitCode: null, signal: 'SIGSEGV', durationMs: 5, output: '' },
      { exitCode: null, signal: null, durationMs: 0, output: 'spawn ENOENT' },
    ];
    const lines = formatFlakeReport(await runFlake({ n: 2, jobs: 1, runOnce: async (i) => outcomes[i]! }));
    expect(lines).toEqual([
      '2 of 2 failed: failure rate 100.0% (95% CI 34.2%–100.0%)',
      'run time: median 3ms, p95 5ms',
      'failures:',
      '  run 1: killed by SIGSEGV',
      '  run 2: did not start',
      '    | spawn ENOENT',
    ]);
  });

  it('says when it stopped at the first failure, and that the rate is then biased', async () => {
    const report = await runFlake({ n: 50, jobs: 1, untilFail: true, runOnce: async (i) => outcome(i === 4, 'x') });
    const lines = formatFlakeReport(report);
    expect(lines[0]).toBe('1 of 5 failed: failure rate 20.0% (95% CI 3.6%–62.4%)');
    expect(lines[1]).toBe('stopped at the first failure after 5 of 50 runs (the rate is biased high)');
  });

  it('says when it was aborted, and how many runs were cut short', async () => {
    const ac = new AbortController();
    const report = await runFlake({
      n: 10,
      jobs: 2,
      signal: ac.signal,
      runOnce: async (i) => {
        if (i === 2) ac.abort();
        return outcome(false);
      },
    });
    const lines = formatFlakeReport(report);
    expect(lines[1]).toBe(`aborted after ${report.runs} of 10 runs; ${report.discarded} cut short and not counted`);
    expect(report.discarded).toBeGreaterThan(0);

    const none = new AbortController();
    none.abort();
    const empty = await runFlake({ n: 3, jobs: 1, signal: none.signal, runOnce: async () => outcome(false) });
    expect(formatFlakeReport(empty)).toEqual(['no run finished: nothing to measure', 'aborted after 0 of 3 runs']);
  });
});

describe('formatDuration', () => {
  it('uses ms, then tenths of seconds, then minutes', () => {
    expect([0, 850, 999.6, 1000, 12_345, 59_940, 59_960, 125_000].map(formatDuration)).toEqual([
      '0ms',
      '850ms',
      '1.0s',
      '1.0s',
      '12.3s',
      '59.9s',
      '1m00s',
      '2m05s',
    ]);
  });
});
