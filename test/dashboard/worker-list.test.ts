import { describe, expect, it } from 'vitest';
import { stripSgr, visibleWidth } from '../../src/views/dashboard/ansi.js';
import { renderList, type ListModel } from '../../src/views/dashboard/worker-list.js';
import { workerView } from './views.js';

const NOW = Date.parse('2026-01-01T12:00:00Z');

function model(over: Partial<ListModel> = {}): ListModel {
  const rows = [
    workerView({ name: 'api', state: 'running', ready: true, startedAt: new Date(NOW - 65_000).toISOString(), pid: 101 }),
    workerView({ name: 'frontend', state: 'running', verdict: 'stale', staleFiles: ['a', 'b', 'c'], staleSince: new Date(NOW - 12_000).toISOString(), pid: 202, restarts: 3 }),
    workerView({
      name: 'unit',
      kind: 'task',
      state: 'exited',
      pid: null,
      lastTask: { result: 'failed', durationMs: 2500, code: 1, generation: 3, codeId: 'c0ffee' },
      taskHistory: (['passed', 'failed'] as const).map((result) => ({ result, durationMs: 1 })),
    }),
  ].map((view) => ({ view, stats: { cpu: 12.4, rss: 50 * 1024 * 1024, procs: 2 }, restarting: false }));
  return { rows, selected: 0, focused: true, now: NOW, statsSupported: true, ...over };
}

describe('renderList', () => {
  it('shows every column on a wide screen', () => {
    const lines = renderList(model(), 100, 10).map(stripSgr);
    expect(lines[0]).toMatch(/NAME\s+STATE\s+CODE\s+UP\s+PID\s+CPU\s+MEM\s+↻\s+RECENT/);
    expect(lines[1]).toMatch(/^› api\s+ready\s+fresh\s+1m05s\s+101\s+12%\s+50M\s+0/);
    expect(lines[2]).toMatch(/frontend\s+running\s+STALE 3 files 12s\s+.*202.*\s3\s*$/);
    expect(lines[3]).toMatch(/unit\s+failed 2.5s\s+fresh\s+-\s+-\s+-\s+-\s+0\s+✔✘/);
  });

  it.each([80, 60, 40])('keeps names, states and STALE readable at %i columns, every line exactly that wide', (width) => {
    const raw = renderList(model(), width, 10);
    for (const l of raw) expect(visibleWidth(l)).toBe(width);
    const lines = raw.map(stripSgr);
    expect(lines[1]).toContain('api');
    expect(lines[1]).toContain('ready');
    expect(lines[2]).toContain('frontend');
    expect(lines[2]).toContain('STALE');
    expect(lines[3]).toContain('failed');
  });

  it('drops the least useful columns first', () => {
    const header = (w: number) => stripSgr(renderList(model(), w, 10)[0]!);
    expect(header(60)).not.toContain('RECENT');
    expect(header(60)).toContain('UP');
    expect(header(45)).not.toContain('MEM');
  });

  it('shows - for CPU and memory where /proc is unavailable', () => {
    const lines = renderList(model({ statsSupported: false }), 100, 10).map(stripSgr);
    expect(lines[1]).toMatch(/101\s+-\s+-\s+0/);
  });

  it('scrolls to keep the selection visible when rows do not fit', () => {
    const lines = renderList(model({ selected: 2 }), 80, 3).map(stripSgr);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/^› unit/);
    expect(lines.join('\n')).not.toContain('api');
  });

  it('marks the selected row in inverse video only while the list has focus', () => {
    expect(renderList(model(), 80, 10)[1]).toMatch(/^\x1b\[7m› api/);
    expect(renderList(model({ focused: false }), 80, 10)[1]).toMatch(/^\x1b\[1m› api/);
  });

  it("shows a task's failing tests with their counts, and keeps them when narrow screens drop CPU and memory", () => {
    const m = model();
    m.rows[2] = {
      ...m.rows[2]!,
      tests: {
        type: 'task-tests',
        worker: 'unit',
        codeId: 'abc',
        runs: 10,
        failed: 4,
        failing: [
          { id: 'test_login.TestSession::test_token', failed: 3, runs: 10 },
          { id: 'api > cookie', failed: 1, runs: 10 },
        ],
        newFailures: [],
      },
    };
    const wide = renderList(m, 150, 10).map(stripSgr);
    expect(wide[0]).toMatch(/RECENT\s+TIMES\s+FAILING TESTS\s*$/);
    expect(wide[3]).toMatch(/test_token 3\/10, cookie 1\/10\s*$/);
    // Rows without test data leave the cell empty.
    expect(wide[1]).not.toMatch(/\/10/);
    const narrow = renderList(m, 80, 10).map(stripSgr);
    expect(narrow[0]).not.toContain('MEM');
    expect(narrow[0]).toContain('FAILING TESTS');
    expect(narrow[3]).toContain('test_token 3/10');
    // Without any task reporting tests, there is no such column.
    expect(stripSgr(renderList(model(), 150, 10)[0]!)).not.toContain('FAILING');
  });
});

describe('the PORTS column', () => {
  it('shows what each running worker listens on, and only when one listens on something', () => {
    const m = model();
    expect(stripSgr(renderList(m, 120, 10)[0]!)).not.toContain('PORTS');
    m.rows[0]!.view = { ...m.rows[0]!.view, listening: { tcp: [4310, 9229], unix: ['/p/app.sock'] } };
    const lines = renderList(m, 140, 10).map(stripSgr);
    expect(lines[0]).toMatch(/CODE\s+PORTS\s+UP/);
    expect(lines[1]).toMatch(/fresh\s+:4310 :9229 \/p\/app\.sock\s+1m05s/);
  });

  it('keeps the ports longer than uptime and pid on a narrow screen', () => {
    const m = model();
    m.rows[0]!.view = { ...m.rows[0]!.view, listening: { tcp: [4310], unix: [] } };
    const header = stripSgr(renderList(m, 60, 10)[0]!);
    expect(header).toContain('PORTS');
    expect(header).not.toContain('PID');
  });
});
