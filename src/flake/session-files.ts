import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { stateSubdir, writeFileAtomic } from '../state/files.js';
import { commandKey, type FlakeSession } from '../history/flake-sessions.js';
import type { RunRecord } from '../history/record.js';
import { appendRun } from '../history/store.js';
import type { StartedRun } from './run.js';
import type { FlakeReport } from './runner.js';
import type { SequentialDesign } from './sequential.js';
import { FIRST_RUNS, type TestTally, type TestsSummary } from './tests.js';

/** What a flake session leaves behind: saved outputs, a history record per run, one session record. */

export interface SavedLog {
  run: number;
  path: string;
}

/**
 * Keeps the output of the first failing runs: the first FIRST_RUNS failures of each test case and
 * of the session, written as they happen so a long session holds no outputs in memory.
 */
export function keptLogs(stateDir: string, session: string, tally: TestTally | null, warn: (m: string) => void) {
  const perTest = new Map<string, number>();
  const saved = new Map<number, string>();
  let failures = 0;
  let dir: string | undefined;
  return {
    async offer(i: number, output: string, always = false): Promise<void> {
      if (saved.has(i)) return;
      const tests = tally?.failuresOf(i) ?? [];
      const wanted = always || failures < FIRST_RUNS || tests.some((t) => (perTest.get(t) ?? 0) < FIRST_RUNS);
      if (!always) failures++;
      if (!wanted) return;
      for (const t of tests) perTest.set(t, (perTest.get(t) ?? 0) + 1);
      try {
        // Made link-free inside .devsup: a planted symlink must not send the outputs elsewhere.
        if (dir === undefined) dir = await stateSubdir(stateDir, 'flake', session);
        const path = join(dir, `run-${i + 1}.log`);
        saved.set(i, path);
        await writeFileAtomic(path, output, 0o666);
      } catch (err) {
        saved.delete(i);
        warn(`could not save the failing runs' output: ${errorMessage(err)}`);
      }
    },
    async keepOnly(indices: ReadonlySet<number>): Promise<SavedLog[]> {
      for (const [i, path] of saved) {
        if (indices.has(i)) continue;
        saved.delete(i);
        await rm(path, { force: true }).catch(() => undefined);
      }
      return [...saved].sort((a, b) => a[0] - b[0]).map(([i, path]) => ({ run: i + 1, path }));
    },
  };
}

export function sessionRecord(
  id: string,
  startedAt: Date,
  command: string[] | string,
  label: string,
  codeId: string,
  report: FlakeReport,
  tests: TestsSummary | null,
  design: SequentialDesign | null,
): FlakeSession {
  return {
    v: 1,
    id,
    key: commandKey(command),
    label,
    codeId,
    startedAt: startedAt.toISOString(),
    runs: report.runs,
    failed: report.failed,
    ...(tests ? { reported: tests.reported, tests: tests.failing.map((t) => ({ id: t.id, runs: t.runs, failed: t.failed })) } : {}),
    ...(design && report.verdict
      ? { decision: { baseline: design.baseline, fixedRate: design.fixedRate, confidence: design.confidence, verdict: report.verdict } }
      : {}),
  };
}

export async function recordHistory(stateDir: string, runs: StartedRun[], codeId: string, logs: SavedLog[]): Promise<void> {
  const logOf = new Map(logs.map((l) => [l.run, l.path]));
  for (const r of runs) {
    const o = r.outcome;
    const log = logOf.get(r.run);
    const rec: RunRecord = {
      v: 1,
      worker: 'flake',
      generation: r.run,
      codeId,
      changedFiles: [],
      startedAt: r.startedAt.toISOString(),
      durationMs: Math.max(0, o.durationMs),
      exitCode: o.exitCode,
      signal: o.signal,
      result: r.cancelled ? 'cancelled' : o.exitCode === 0 && o.signal === null ? 'passed' : 'failed',
      ...(log !== undefined ? { log } : {}),
    };
    await appendRun(stateDir, rec);
  }
}

