import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { formatFlakeReport } from '../../src/flake/report.js';
import { runFlake, type RunOutcome } from '../../src/flake/runner.js';
import { wilson } from '../../src/history/stats.js';
import { trackPid } from '../helpers/procs.js';
import { expectedFailures } from './prng.js';

const flaky = fileURLToPath(new URL('../fixtures/flaky.mjs', import.meta.url));
const alwaysPass = fileURLToPath(new URL('../fixtures/always-pass.mjs', import.meta.url));

/** One real run of a fixture, the way the CLI's runOnce would do it. */
async function runFixture(args: string[], i: number): Promise<RunOutcome> {
  const t0 = performance.now();
  const child = execa(process.execPath, args, {
    env: { FLAKE_RUN: String(i) },
    reject: false,
    all: true,
  });
  trackPid(child.pid);
  const r = await child;
  return {
    exitCode: r.exitCode ?? null,
    signal: r.signal ?? null,
    durationMs: performance.now() - t0,
    output: r.all ?? '',
  };
}

describe('runFlake with real processes', () => {
  it('counts exactly the failures the seed decides, 4 at a time', async () => {
    const expected = expectedFailures(0.2, 42, 50);
    expect(expected).toEqual([3, 7, 11, 12, 21, 32, 35, 41, 45, 49]);
    let running = 0;
    let maxRunning = 0;
    const report = await runFlake({
      n: 50,
      jobs: 4,
      runOnce: async (i) => {
        maxRunning = Math.max(maxRunning, ++running);
        try {
          return await runFixture([flaky, '0.2', '42'], i);
        } finally {
          running--;
        }
      },
    });
    expect(maxRunning).toBe(4);
    expect(report).toMatchObject({ requested: 50, runs: 50, passed: 40, failed: 10, stopped: null });
    expect(report.failureRate).toEqual(wilson(10, 50));
    expect(report.firstFailures.map((f) => [f.index, f.exitCode, f.signal])).toEqual([
      [3, 1, null],
      [7, 1, null],
      [11, 1, null],
    ]);
    expect(report.firstFailures[0]!.output).toContain('run 3: failed');
    expect(report.medianMs).toBeGreaterThan(0);
    expect(report.p95Ms).toBeGreaterThanOrEqual(report.medianMs);
    const lines = formatFlakeReport(report);
    expect(lines[0]).toBe('10 of 50 failed: failure rate 20.0% (95% CI 11.2%–33.0%)');
    expect(lines).toContain('  run 4: exit code 1');
  }, 60_000);

  it('honours jobs = 2 with overlapping runs', async () => {
    let running = 0;
    let maxRunning = 0;
    const report = await runFlake({
      n: 8,
      jobs: 2,
      runOnce: async (i) => {
        maxRunning = Math.max(maxRunning, ++running);
        try {
          return await runFixture([flaky, '0', '1', '50'], i);
        } finally {
          running--;
        }
      },
    });
    expect(maxRunning).toBe(2);
    expect(report.runs).toBe(8);
  });

  it('with untilFail and one job stops right after the first seeded failure', async () => {
    const first = expectedFailures(0.2, 2024, 50)[0]!;
    expect(first).toBe(2);
    const launched: number[] = [];
    const report = await runFlake({
      n: 50,
      jobs: 1,
      untilFail: true,
      runOnce: (i) => (launched.push(i), runFixture([flaky, '0.2', '2024'], i)),
    });
    expect(launched).toEqual(Array.from({ length: first + 1 }, (_, i) => i));
    expect(report).toMatchObject({ runs: first + 1, failed: 1, stopped: 'first-failure' });
    expect(report.firstFailures.map((f) => f.index)).toEqual([first]);
  });

  it('reports an upper bound when nothing failed', async () => {
    const report = await runFlake({ n: 8, jobs: 3, runOnce: (i) => runFixture([alwaysPass], i) });
    expect(report).toMatchObject({ runs: 8, failed: 0, firstFailures: [] });
    expect(formatFlakeReport(report)[0]).toBe('0 of 8 failed: failure rate below 31.2% with 95% confidence');
  });
});
