import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import type { DevsupEvent, EventOf, TaskResult } from '../../src/core/events.js';
import { trackTaskTests } from '../../src/flake/task-tests.js';
import { readSessions } from '../../src/history/flake-sessions.js';
import { tempDir } from '../helpers/tmp.js';

const started = (generation: number, codeId: string): DevsupEvent => ({
  type: 'worker-started',
  worker: 'tests',
  generation,
  pid: 1000 + generation,
  codeId,
  startedAt: new Date().toISOString(),
  spawnMs: 1,
});

const finished = (generation: number, result: TaskResult): DevsupEvent => ({
  type: 'task-finished',
  worker: 'tests',
  generation,
  result,
  code: result === 'passed' ? 0 : 1,
  signal: null,
  durationMs: 100,
  changedFiles: 0,
});

const report = (failB: boolean): string =>
  `<testsuites><testsuite name="suite"><testcase classname="t" name="a"/>` +
  `<testcase classname="t" name="b">${failB ? '<failure message="b broke"/>' : ''}</testcase></testsuite></testsuites>`;

function setup() {
  const bus = new Bus();
  const root = tempDir();
  const stateDir = join(root, '.devsup');
  const reportPath = join(root, 'junit.xml');
  const events: EventOf<'task-tests'>[] = [];
  const errors: unknown[] = [];
  const tracker = trackTaskTests((l) => bus.on(l), {
    stateDir,
    reportOf: (w) => (w === 'tests' ? reportPath : undefined),
    emit: (e) => events.push(e),
    onError: (e) => errors.push(e),
  });
  /** One run: started, the runner writes its report (or none), finished. */
  const run = async (generation: number, codeId: string, result: TaskResult, xml: string | null): Promise<void> => {
    bus.emit(started(generation, codeId));
    await tracker.idle();
    if (xml !== null) writeFileSync(reportPath, xml);
    bus.emit(finished(generation, result));
    await tracker.idle();
  };
  return { bus, stateDir, reportPath, events, errors, tracker, run };
}

describe('trackTaskTests', () => {
  it('counts each run per test on its code id, ignores a stale report, and records the round on task-summary', async () => {
    const s = setup();
    // A report left from before devsup started: removed when the first run starts, never counted.
    writeFileSync(s.reportPath, report(true));
    s.bus.emit(started(1, 'aaaa'));
    await s.tracker.idle();
    expect(existsSync(s.reportPath)).toBe(false);
    writeFileSync(s.reportPath, report(true));
    s.bus.emit(finished(1, 'failed'));
    await s.tracker.idle();
    expect(s.events.at(-1)).toEqual({
      type: 'task-tests',
      worker: 'tests',
      codeId: 'aaaa',
      runs: 1,
      failed: 1,
      failing: [{ id: 'suite > t::b', failed: 1, runs: 1 }],
      newFailures: ['suite > t::b'],
    });
    await s.run(2, 'aaaa', 'passed', report(false));
    // Read, then removed: a next run that writes none is not credited with this one's.
    expect(existsSync(s.reportPath)).toBe(false);
    expect(s.events.at(-1)).toMatchObject({ runs: 2, failed: 1, failing: [{ id: 'suite > t::b', failed: 1, runs: 2 }], newFailures: [] });
    // A crash that writes no report: the run counts, nothing per test.
    await s.run(3, 'aaaa', 'failed', null);
    expect(s.events.at(-1)).toMatchObject({ runs: 3, failed: 2, failing: [{ failed: 1, runs: 2 }], newFailures: [] });
    // Cancelled runs are not evidence.
    await s.run(4, 'aaaa', 'cancelled', report(true));
    expect(s.events).toHaveLength(3);
    expect(existsSync(s.reportPath)).toBe(false);

    s.bus.emit({ type: 'task-summary', worker: 'tests', codeId: 'aaaa', runs: 3, failed: 2 });
    await s.tracker.idle();
    const [session] = await readSessions(s.stateDir);
    expect(session).toMatchObject({ key: 'task tests', label: 'task tests', codeId: 'aaaa', runs: 3, failed: 2, reported: 2 });
    expect(session!.tests).toEqual([{ id: 'suite > t::b', runs: 2, failed: 1 }]);

    // New code: a new round.
    await s.run(5, 'bbbb', 'passed', report(false));
    expect(s.events.at(-1)).toMatchObject({ codeId: 'bbbb', runs: 1, failed: 0, failing: [] });
    expect(s.errors).toEqual([]);
  });

  it('an unreadable report is reported once per run as an error, and the run still counts', async () => {
    const s = setup();
    await s.run(1, 'aaaa', 'failed', '<testsuites><testcase name="x">');
    expect(s.events.at(-1)).toMatchObject({ runs: 1, failed: 1, failing: [] });
    expect(s.errors).toHaveLength(1);
    expect(String(s.errors[0])).toMatch(/junit\.xml: not valid XML/);
  });

  it('a task without a report emits nothing per test but its round is still recorded', async () => {
    const s = setup();
    s.bus.emit({ ...(started(1, 'cccc') as EventOf<'worker-started'>), worker: 'lint' });
    s.bus.emit({ ...(finished(1, 'failed') as EventOf<'task-finished'>), worker: 'lint' });
    s.bus.emit({ type: 'task-summary', worker: 'lint', codeId: 'cccc', runs: 1, failed: 1 });
    await s.tracker.idle();
    expect(s.events).toEqual([]);
    const sessions = await readSessions(s.stateDir);
    expect(sessions.map((x) => [x.key, x.runs, x.failed, x.tests])).toEqual([['task lint', 1, 1, undefined]]);
  });
});
