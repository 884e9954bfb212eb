import { wilson, type RateInterval } from '../history/stats.js';
import type { CaseResult } from './junit.js';

/** How one test case did over the counted runs. */
export interface TestStats {
  id: string;
  /** Runs in whose report the case ran (skips do not count). */
  runs: number;
  failed: number;
  /** Wilson 95%. */
  rate: RateInterval;
  /** The message of its failure in the lowest-numbered failing run. */
  message?: string;
  /** Indices (0-based) of its first failing runs, at most FIRST_RUNS. */
  failingRuns: number[];
}

export interface TestsSummary {
  /** Cases that failed at least once: most failures first, then by name. */
  failing: TestStats[];
  /** Distinct cases seen in any counted report. */
  cases: number;
  /** Counted runs that had a readable report. */
  reported: number;
  /** Counted runs that failed while no case in their report failed, or had no report (indices). */
  unexplained: number[];
}

export const FIRST_RUNS = 3;

interface RunEntry {
  failedRun: boolean;
  /** Interned ids of the cases that ran; null when the run had no readable report. */
  ran: Uint32Array | null;
  failures: { id: number; message?: string }[];
}

/**
 * Per-test counts of a flake session or of a task's repeated runs. Runs are kept by index so the
 * summary can be taken over exactly the runs the session counted (a sequential session stops at
 * its deciding run, and runs after it are not evidence).
 */
export class TestTally {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [];
  private readonly runs = new Map<number, RunEntry>();

  private intern(id: string): number {
    let n = this.ids.get(id);
    if (n === undefined) {
      n = this.names.length;
      this.ids.set(id, n);
      this.names.push(id);
    }
    return n;
  }

  /** `cases` null: the run left no readable report. */
  add(index: number, failedRun: boolean, cases: readonly CaseResult[] | null): void {
    if (cases === null) {
      this.runs.set(index, { failedRun, ran: null, failures: [] });
      return;
    }
    const ran = new Set<number>();
    const failures: RunEntry['failures'] = [];
    for (const c of cases) {
      if (c.outcome === 'skipped') continue;
      const id = this.intern(c.id);
      // A case reported twice in one run (a retrying runner) ran once; it failed if any attempt did.
      if (c.outcome === 'failed' && !failures.some((f) => f.id === id)) {
        failures.push({ id, ...(c.message !== undefined ? { message: c.message } : {}) });
      }
      ran.add(id);
    }
    this.runs.set(index, { failedRun, ran: Uint32Array.from(ran), failures });
  }

  /** Failing runs of each case so far (for deciding which outputs to keep while runs go on). */
  failuresOf(index: number): string[] {
    return (this.runs.get(index)?.failures ?? []).map((f) => this.names[f.id]!);
  }

  summarize(counted?: readonly number[]): TestsSummary {
    const indices = counted ? [...counted].sort((a, b) => a - b) : [...this.runs.keys()].sort((a, b) => a - b);
    const ranCount = new Map<number, number>();
    const fails = new Map<number, { failed: number; message?: string; runs: number[] }>();
    let reported = 0;
    const unexplained: number[] = [];
    for (const i of indices) {
      const r = this.runs.get(i);
      if (!r) continue;
      if (r.ran === null) {
        if (r.failedRun) unexplained.push(i);
        continue;
      }
      reported++;
      for (const id of r.ran) ranCount.set(id, (ranCount.get(id) ?? 0) + 1);
      if (r.failedRun && r.failures.length === 0) unexplained.push(i);
      for (const f of r.failures) {
        let s = fails.get(f.id);
        if (!s) fails.set(f.id, (s = { failed: 0, runs: [], ...(f.message !== undefined ? { message: f.message } : {}) }));
        s.failed++;
        if (s.runs.length < FIRST_RUNS) s.runs.push(i);
      }
    }
    const failing: TestStats[] = [...fails].map(([id, s]) => {
      const runs = ranCount.get(id) ?? s.failed;
      return {
        id: this.names[id]!,
        runs,
        failed: s.failed,
        rate: wilson(s.failed, runs),
        ...(s.message !== undefined ? { message: s.message } : {}),
        failingRuns: s.runs,
      };
    });
    failing.sort((a, b) => b.failed - a.failed || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return { failing, cases: ranCount.size, reported, unexplained };
  }
}
