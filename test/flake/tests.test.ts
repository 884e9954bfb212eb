import { describe, expect, it } from 'vitest';
import { TestTally } from '../../src/flake/tests.js';
import { totalsByCode, type FlakeSession } from '../../src/history/flake-sessions.js';

describe('TestTally', () => {
  it('counts runs and failures per case over the counted runs only, first message and first failing runs', () => {
    const t = new TestTally();
    const ok = (id: string) => ({ id, outcome: 'passed' as const });
    const bad = (id: string, message: string) => ({ id, outcome: 'failed' as const, message });
    for (let i = 0; i < 8; i++) {
      const fails = i % 2 === 1;
      t.add(i, fails, [ok('a'), fails ? bad('b', `run ${i}`) : ok('b'), { id: 'c', outcome: 'skipped' }]);
    }
    t.add(8, true, null);
    t.add(9, true, [ok('a'), ok('b')]);
    const all = t.summarize();
    expect(all.cases).toBe(2);
    expect(all.reported).toBe(9);
    expect(all.failing).toEqual([{ id: 'b', runs: 9, failed: 4, rate: expect.any(Object), message: 'run 1', failingRuns: [1, 3, 5] }]);
    expect(all.unexplained).toEqual([8, 9]);
    // A sequential session that decided after run 4 counts runs 0..3 only.
    const prefix = t.summarize([0, 1, 2, 3]);
    expect(prefix.failing[0]).toMatchObject({ runs: 4, failed: 2, failingRuns: [1, 3] });
    expect(prefix.unexplained).toEqual([]);
  });

  it('a case reported twice in one run (a retry) ran once and failed once', () => {
    const t = new TestTally();
    t.add(0, true, [
      { id: 'x', outcome: 'failed', message: 'first try' },
      { id: 'x', outcome: 'failed', message: 'second try' },
    ]);
    expect(t.summarize().failing[0]).toMatchObject({ runs: 1, failed: 1, message: 'first try' });
  });
});

describe('totalsByCode', () => {
  const s = (codeId: string, at: string, runs: number, failed: number, tests: FlakeSession['tests'] = [], reported = runs): FlakeSession => ({
    v: 1,
    id: at,
    key: 'flake ["x"]',
    label: 'x',
    codeId,
    startedAt: at,
    runs,
    failed,
    reported,
    tests,
  });

  it('sums sessions per code, oldest code first, and counts passes of cases a session did not list', () => {
    const totals = totalsByCode([
      s('aaa', '2026-01-01T00:00:00Z', 40, 3, [{ id: 't1', runs: 40, failed: 3 }]),
      s('bbb', '2026-01-02T00:00:00Z', 50, 0),
      s('aaa', '2026-01-01T01:00:00Z', 10, 1, [{ id: 't2', runs: 10, failed: 1 }]),
      s('bbb', '2026-01-03T00:00:00Z', 30, 1, [{ id: 't1', runs: 30, failed: 1 }]),
    ]);
    expect(totals.map((t) => [t.codeId, t.sessions, t.runs, t.failed])).toEqual([
      ['aaa', 2, 50, 4],
      ['bbb', 2, 80, 1],
    ]);
    expect(Object.fromEntries(totals[0]!.tests)).toEqual({ t1: { runs: 50, failed: 3 }, t2: { runs: 50, failed: 1 } });
    expect(Object.fromEntries(totals[1]!.tests)).toEqual({ t1: { runs: 80, failed: 1 } });
  });
});
