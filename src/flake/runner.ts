import { median, percentile, wilson, zeroFailureUpperBound, type RateInterval } from '../history/stats.js';
import type { CaseResult } from './junit.js';
import { sequentialTracker, type SequentialDesign, type Verdict } from './sequential.js';

export interface RunOutcome {
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  output: string;
  /** The run's test cases from its JUnit report; null when it left none readable; absent when none was asked for. */
  tests?: CaseResult[] | null;
}

export interface FlakeProgress {
  /** Runs finished and counted. */
  done: number;
  failed: number;
  running: number;
  /** Rough time until the remaining runs finish; null before the first run ends. */
  etaMs: number | null;
}

export interface FlakeOptions {
  n: number;
  jobs: number;
  /**
   * Launch nothing after the first failure. Runs already in flight are let finish and ARE
   * counted: they started before the failure was known, so their outcomes are ordinary samples,
   * and this runner has no way to stop them anyway.
   */
  untilFail?: boolean;
  /**
   * Stop as soon as this rule reaches a verdict, with n as the cap. The rule sees runs in run
   * order, never in the order they end: with several jobs, runs that fail slowly (a timeout) end
   * after runs that pass quickly, and a rule fed in completion order would call "fixed" on the
   * passes that happened to arrive first. Runs after the deciding one are not counted.
   */
  sequential?: SequentialDesign;
  /** Called once when the rule decides: the caller may stop runs still in flight (not counted). */
  onDecided?: (v: Verdict) => void;
  /** Index runs 0..n-1; a run fails unless it exits with code 0 and no signal. */
  runOnce: (i: number) => Promise<RunOutcome>;
  onProgress?: (p: FlakeProgress) => void;
  /**
   * Launch nothing once aborted (Ctrl-C). The caller must make in-flight runOnce calls end
   * (e.g. kill their children on the same signal); their outcomes are NOT counted, since a run
   * cut short says nothing about flakiness. runFlake resolves once they have all settled.
   */
  signal?: AbortSignal;
}

export interface FirstFailure {
  index: number;
  exitCode: number | null;
  signal: string | null;
  output: string;
}

export interface FlakeReport {
  /** Runs asked for. */
  requested: number;
  /** Runs counted: passed + failed. */
  runs: number;
  passed: number;
  failed: number;
  /** Wilson 95% interval; { rate: NaN, low: 0, high: 1 } when no run was counted. */
  failureRate: RateInterval;
  /** Exact one-sided 95% upper bound, set only when runs > 0 and none failed. */
  upperBoundIfNone?: number;
  /** Over counted runs, passed and failed alike; NaN when no run was counted. */
  medianMs: number;
  /** Nearest-rank 95th percentile. */
  p95Ms: number;
  /** The (up to) 3 failures with the lowest run index, by index. */
  firstFailures: FirstFailure[];
  /**
   * Why fewer than `requested` runs were counted: untilFail saw a failure, or the signal aborted
   * (which wins, as the later and user-made reason). Null when all requested runs were counted.
   */
  stopped: 'first-failure' | 'aborted' | 'decided' | null;
  /** Outcomes that arrived after an abort, or after the deciding run, and were left out. */
  discarded: number;
  /** With a sequential rule: its verdict, or 'undecided' at the cap or on abort. */
  verdict?: Verdict | 'undecided';
  /** Indices of the counted runs, ascending: what per-test statistics must be computed over. */
  counted: number[];
}

type Settled = { i: number; ok: true; r: RunOutcome } | { i: number; ok: false; err: unknown };

function checkCount(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
}

/**
 * Runs `runOnce` n times, at most `jobs` at a time. If runOnce rejects (a harness bug, not a
 * failed run), nothing more is launched and, once the others have settled, runFlake rejects with
 * that error: it never returns while calls it started are still going.
 */
export async function runFlake(opts: FlakeOptions): Promise<FlakeReport> {
  const { n, jobs, runOnce, signal } = opts;
  checkCount('n', n);
  checkCount('jobs', jobs);
  const inFlight = new Map<number, Promise<Settled>>();
  /** Counted outcomes by index; outputs are dropped except for the failures kept below. */
  const results = new Map<number, { failed: boolean; durationMs: number }>();
  let failures: FirstFailure[] = [];
  let failed = 0;
  let discarded = 0;
  let next = 0;
  let stopped: FlakeReport['stopped'] = null;
  let error: { err: unknown } | null = null;
  const tracker = opts.sequential ? sequentialTracker(opts.sequential) : null;
  /** Runs before this index have all ended and were fed to the tracker. */
  let prefix = 0;
  /** Set when the tracker decides: runs at this index and above are not counted. */
  let decidedAt: number | null = null;

  const launch = (i: number): void => {
    const p = Promise.resolve()
      .then(() => runOnce(i))
      .then(
        (r): Settled => ({ i, ok: true, r }),
        (err: unknown): Settled => ({ i, ok: false, err }),
      );
    inFlight.set(i, p);
  };

  const eta = (): number | null => {
    const done = results.size;
    if (done === 0) return null;
    const left = stopped !== null || error !== null ? inFlight.size : n - done;
    if (left === 0) return 0;
    // Mean run time times the number of rounds the remaining runs need at this parallelism.
    let total = 0;
    for (const r of results.values()) total += r.durationMs;
    return Math.round(((total / done) * left) / Math.min(jobs, left));
  };

  const report = (): void => {
    if (!opts.onProgress || error !== null) return;
    try {
      opts.onProgress({ done: results.size, failed, running: inFlight.size, etaMs: eta() });
    } catch (err) {
      error = { err };
    }
  };

  const uncount = (i: number): void => {
    const r = results.get(i);
    if (!r) return;
    results.delete(i);
    discarded++;
    if (r.failed) failed--;
  };

  /** Feeds the tracker every run of the finished prefix; on a verdict, drops the runs after it. */
  const advance = (): void => {
    if (!tracker) return;
    while (decidedAt === null && results.has(prefix)) {
      const v = tracker.add(results.get(prefix)!.failed);
      prefix++;
      if (v === null) continue;
      decidedAt = prefix;
      stopped ??= 'decided';
      for (const i of [...results.keys()]) if (i >= decidedAt) uncount(i);
      try {
        opts.onDecided?.(v);
      } catch (err) {
        error ??= { err };
      }
    }
  };

  for (;;) {
    if (signal?.aborted && next < n) stopped ??= 'aborted';
    while (stopped === null && error === null && next < n && inFlight.size < jobs) launch(next++);
    report();
    if (inFlight.size === 0) break;
    const s = await Promise.race(inFlight.values());
    inFlight.delete(s.i);
    if (!s.ok) {
      error ??= { err: s.err };
      continue;
    }
    if (signal?.aborted || (decidedAt !== null && s.i >= decidedAt)) {
      if (decidedAt === null) stopped = 'aborted';
      discarded++;
      continue;
    }
    const isFailure = !(s.r.exitCode === 0 && s.r.signal === null);
    results.set(s.i, { failed: isFailure, durationMs: s.r.durationMs });
    if (isFailure) {
      failed++;
      failures = [...failures, { index: s.i, exitCode: s.r.exitCode, signal: s.r.signal, output: s.r.output }]
        .sort((a, b) => a.index - b.index)
        .slice(0, 3);
      if (opts.untilFail && next < n) stopped ??= 'first-failure';
    }
    advance();
  }
  if (error !== null) throw error.err;

  const counted = [...results.keys()].sort((a, b) => a - b);
  const durations = counted.map((i) => results.get(i)!.durationMs);
  const runs = counted.length;
  const kept = new Set(counted);
  return {
    requested: n,
    runs,
    passed: runs - failed,
    failed,
    failureRate: runs > 0 ? wilson(failed, runs) : { rate: NaN, low: 0, high: 1 },
    ...(runs > 0 && failed === 0 ? { upperBoundIfNone: zeroFailureUpperBound(runs) } : {}),
    medianMs: runs > 0 ? median(durations) : NaN,
    p95Ms: runs > 0 ? percentile(durations, 95) : NaN,
    firstFailures: failures.filter((f) => kept.has(f.index)),
    stopped,
    discarded,
    ...(tracker ? { verdict: tracker.verdict ?? 'undecided' } : {}),
    counted,
  };
}
