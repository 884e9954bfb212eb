import { readFile, rm } from 'node:fs/promises';
import { errorMessage } from '../core/errors.js';
import type { DevsupEvent, EventOf } from '../core/events.js';
import { appendSession, taskKey, type FlakeSession } from '../history/flake-sessions.js';
import { newRunId } from '../history/logs.js';
import type { CaseResult } from './junit.js';
import { TestTally } from './tests.js';

export interface TaskTestsOptions {
  stateDir: string;
  /** The JUnit report a task's command writes (absolute), or undefined: counts without test names. */
  reportOf(worker: string): string | undefined;
  /** Where `task-tests` events go (the bus the views listen to). */
  emit(e: EventOf<'task-tests'>): void;
  onError(err: unknown): void;
}

interface Round {
  codeId: string;
  tally: TestTally;
  runs: number;
  failed: number;
}

/** How many failing cases an event carries: the dashboard shows a few names, not a suite. */
const MAX_FAILING = 10;

/**
 * The flake statistics of tasks with `repeat`: each finished run's report read and tallied per code
 * id, a `task-tests` event after every run (the dashboard's failing names and counts), and on the
 * `task-summary` that ends a round, one session recorded for `devsup flake --compare --task`.
 * Fed with events only, so it works with any worker implementation that emits them.
 */
export function trackTaskTests(subscribe: (l: (e: DevsupEvent) => void) => () => void, opts: TaskTestsOptions) {
  const codeOf = new Map<string, { generation: number; codeId: string }>();
  const rounds = new Map<string, Round>();
  let chain: Promise<void> = Promise.resolve();
  const later = (fn: () => Promise<void>): void => {
    // One queue: a run's report is read before the summary that follows it is written.
    chain = chain.then(fn).catch((err: unknown) => opts.onError(err));
  };

  const roundOf = (worker: string, codeId: string): Round => {
    let r = rounds.get(worker);
    if (!r || r.codeId !== codeId) rounds.set(worker, (r = { codeId, tally: new TestTally(), runs: 0, failed: 0 }));
    return r;
  };

  const readReport = async (path: string): Promise<CaseResult[] | null> => {
    try {
      const text = await readFile(path, 'utf8');
      // The XML parser takes 40–60 ms to load: `run` and `up` load it only once a report is there.
      const { parseJunit } = await import('./junit.js');
      return parseJunit(text);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') opts.onError(new Error(`JUnit report ${path}: ${errorMessage(err)}`));
      return null;
    }
  };

  /** Workers whose report was cleared once; after that each read clears it. */
  const cleared = new Set<string>();

  const onStarted = (e: EventOf<'worker-started'>): void => {
    codeOf.set(e.worker, { generation: e.generation, codeId: e.codeId });
    const report = opts.reportOf(e.worker);
    // A report left from before (another session, an older config) must not be read as this run's.
    if (report && !cleared.has(e.worker)) {
      cleared.add(e.worker);
      later(() => rm(report, { force: true }));
    }
  };

  const onFinished = (e: EventOf<'task-finished'>): void => {
    const report = opts.reportOf(e.worker);
    const started = codeOf.get(e.worker);
    if (e.result === 'cancelled' || !started || started.generation !== e.generation) {
      // Whatever a stopped run left is not the next run's report.
      if (report) later(() => rm(report, { force: true }));
      return;
    }
    later(async () => {
      // Removed once read, so a next run that writes no report is seen as such. Removing it when the
      // next run starts instead would race with a quick run writing its own.
      const cases = report ? await readReport(report) : null;
      if (report) await rm(report, { force: true });
      const round = roundOf(e.worker, started.codeId);
      round.runs++;
      if (e.result === 'failed') round.failed++;
      if (report) round.tally.add(e.generation, e.result === 'failed', cases);
      // Without a report the round is still counted for the summary, but there is nothing per test.
      if (!report) return;
      const failing = round.tally.summarize().failing;
      opts.emit({
        type: 'task-tests',
        worker: e.worker,
        codeId: round.codeId,
        runs: round.runs,
        failed: round.failed,
        failing: failing.slice(0, MAX_FAILING).map((t) => ({ id: t.id, failed: t.failed, runs: t.runs })),
        newFailures: round.tally.failuresOf(e.generation),
      });
    });
  };

  const onSummary = (e: EventOf<'task-summary'>): void => {
    later(async () => {
      const round = rounds.get(e.worker);
      const tests = round && round.codeId === e.codeId ? round.tally.summarize() : null;
      const now = new Date();
      const session: FlakeSession = {
        v: 1,
        id: newRunId(now),
        key: taskKey(e.worker),
        label: `task ${e.worker}`,
        codeId: e.codeId,
        startedAt: now.toISOString(),
        runs: e.runs,
        failed: e.failed,
        ...(tests && opts.reportOf(e.worker)
          ? { reported: tests.reported, tests: tests.failing.map((t) => ({ id: t.id, runs: t.runs, failed: t.failed })) }
          : {}),
      };
      await appendSession(opts.stateDir, session);
    });
  };

  const unsubscribe = subscribe((e) => {
    try {
      if (e.type === 'worker-started') onStarted(e);
      else if (e.type === 'task-finished') onFinished(e);
      else if (e.type === 'task-summary') onSummary(e);
    } catch (err) {
      opts.onError(err);
    }
  });
  return Object.assign(() => unsubscribe(), { idle: () => chain });
}
