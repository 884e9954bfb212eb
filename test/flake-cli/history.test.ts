import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAgo } from '../../src/cli/flake/table.js';
import type { RunRecord } from '../../src/history/record.js';
import { runDevsup } from '../helpers/devsup.js';
import { tempDir } from '../helpers/tmp.js';
import { CLI_TIMEOUT_MS, FLAKY, failingRuns, project } from './project.js';

const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

function rec(over: Partial<RunRecord> & Pick<RunRecord, 'worker' | 'generation' | 'result'>): RunRecord {
  return { v: 1, codeId: 'a1b2c3d4e5', changedFiles: [], startedAt: ago(0), durationMs: 1200, exitCode: 0, signal: null, ...over };
}

/**
 * A history as the recorder writes it, oldest first, ending in a line torn by a crash. Times sit
 * mid-unit, so a slow machine cannot tip "5m ago" into "6m ago".
 */
function seed(dir: string): void {
  const log = join(dir, '.devsup', 'logs', 'tests', 'g2.log');
  mkdirSync(join(dir, '.devsup', 'logs', 'tests'), { recursive: true });
  writeFileSync(log, 'AssertionError\n');
  const records = [
    rec({ worker: 'tests', generation: 1, result: 'passed', startedAt: ago(3.5 * 3600_000) }),
    rec({ worker: 'tests', generation: 2, result: 'failed', codeId: 'c3d4e5f6a7', exitCode: 1, changedFiles: ['src/a.ts', 'src/b.ts'], startedAt: ago(5.5 * 60_000), log }),
    rec({ worker: 'api', generation: 7, result: 'passed', codeId: 'c3d4e5f6a7', startedAt: ago(3.5 * 60_000), durationMs: 340 }),
    rec({ worker: 'tests', generation: 3, result: 'cancelled', codeId: '9f8e7d6c5b', exitCode: null, signal: 'SIGTERM', startedAt: ago(1.5 * 60_000), log: join(dir, '.devsup', 'logs', 'tests', 'gone.log') }),
  ];
  writeFileSync(join(dir, '.devsup', 'history.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''));
  appendFileSync(join(dir, '.devsup', 'history.jsonl'), '{"v":1,"worker":"tests","generation":4,"codeId":"ff');
}

const cells = (line: string): string[] => line.trim().split(/\s{2,}/);

describe('devsup history', () => {
  it('shows runs newest first with marks, code ids and log paths, skipping a torn last line', async () => {
    const dir = project();
    seed(dir);
    const r = await runDevsup(['history'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(cells(lines[0]!)).toEqual(['WORKER', 'RUN', 'CODE', 'STARTED', 'DURATION', 'EXIT', 'FILES', 'LOG']);
    expect(lines.slice(1).map(cells)).toEqual([
      ['⊘', 'tests', '#3', '9f8e7d6c5b', '1m ago', '1.2s', 'SIGTERM', '0', '.devsup/logs/tests/gone.log (pruned)'],
      ['✔', 'api', '#7', 'c3d4e5f6a7', '3m ago', '340ms', '0', '0', '-'],
      ['✘', 'tests', '#2', 'c3d4e5f6a7', '5m ago', '1.2s', '1', '2', '.devsup/logs/tests/g2.log'],
      ['✔', 'tests', '#1', 'a1b2c3d4e5', '3h ago', '1.2s', '0', '0', '-'],
    ]);
    // Columns line up, so code ids can be compared by eye.
    const codeAt = lines.slice(1).map((l) => l.search(/[0-9a-f]{10}/));
    expect(new Set(codeAt).size).toBe(1);
  });

  it('filters by worker, limits with -n, and finds .devsup from a subdirectory', async () => {
    const dir = project();
    seed(dir);
    mkdirSync(join(dir, 'src', 'deep'), { recursive: true });
    const r = await runDevsup(['history', 'tests', '-n', '2'], join(dir, 'src', 'deep'), CLI_TIMEOUT_MS);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').slice(1).map(cells);
    expect(rows.map((c) => [c[0], c[1], c[2]])).toEqual([
      ['⊘', 'tests', '#3'],
      ['✘', 'tests', '#2'],
    ]);
    // Log paths outside the working directory are shown whole.
    expect(rows[1]![8]).toBe(join(dir, '.devsup', 'logs', 'tests', 'g2.log'));
  });

  it('--json prints the records as an array, newest first', async () => {
    const dir = project();
    seed(dir);
    const r = await runDevsup(['history', '--json'], dir, CLI_TIMEOUT_MS);
    expect(r.code).toBe(0);
    const records = JSON.parse(r.stdout) as RunRecord[];
    expect(records.map((x) => `${x.worker}#${x.generation}:${x.result}:${x.codeId}`)).toEqual([
      'tests#3:cancelled:9f8e7d6c5b',
      'api#7:passed:c3d4e5f6a7',
      'tests#2:failed:c3d4e5f6a7',
      'tests#1:passed:a1b2c3d4e5',
    ]);
    expect(records[2]!.changedFiles).toEqual(['src/a.ts', 'src/b.ts']);
  });

  it('says so in one line, exit 0, when there is no history', async () => {
    const none = await runDevsup(['history'], tempDir(), CLI_TIMEOUT_MS);
    expect(none).toMatchObject({ code: 0, stdout: 'no runs recorded yet (no .devsup directory here or above)' });
    const empty = await runDevsup(['history'], project(), CLI_TIMEOUT_MS);
    expect(empty).toMatchObject({ code: 0, stdout: 'no runs recorded yet' });
    const dir = project();
    seed(dir);
    const other = await runDevsup(['history', 'web'], dir, CLI_TIMEOUT_MS);
    expect(other).toMatchObject({ code: 0, stdout: 'no runs recorded yet for worker "web"' });
    const json = await runDevsup(['history', '--json'], tempDir(), CLI_TIMEOUT_MS);
    expect(json).toMatchObject({ code: 0, stdout: '[]' });
  });

  it('rejects -n 0 as a usage error', async () => {
    const r = await runDevsup(['history', '-n', '0'], project(), CLI_TIMEOUT_MS);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/-n, --limit <n>.*"0"/);
  });

  it('lists every run of a flake session, failures where the seed put them', async () => {
    const dir = project();
    const f = await runDevsup(['flake', '-n', '12', '-j', '3', '--', 'node', FLAKY, '0.2', '42'], dir, CLI_TIMEOUT_MS);
    expect(f.code).toBe(1);
    const r = await runDevsup(['history', 'flake', '-n', '50'], dir, CLI_TIMEOUT_MS);
    const rows = r.stdout.trimEnd().split('\n').slice(1).map(cells);
    expect(rows.map((c) => c[2])).toEqual(Array.from({ length: 12 }, (_, i) => `#${12 - i}`));
    const failed = rows.filter((c) => c[0] === '✘').map((c) => Number(c[2]!.slice(1)));
    expect(failed.sort((a, b) => a - b)).toEqual(failingRuns(0.2, 42, 12));
    expect(rows.filter((c) => c[0] === '✔')).toHaveLength(12 - failed.length);
    // The first three failures point at their saved output, later ones and passes at nothing.
    const withLog = rows.filter((c) => c[8] !== '-').map((c) => Number(c[2]!.slice(1)));
    expect(withLog.sort((a, b) => a - b)).toEqual(failingRuns(0.2, 42, 12).slice(0, 3));
    for (const c of rows.filter((c) => c[8] !== '-')) expect(c[8]).toMatch(/^\.devsup\/flake\/[^/]+\/run-\d+\.log$/);
    // Every run of one session saw the same code.
    expect(new Set(rows.map((c) => c[3])).size).toBe(1);
  }, 90_000);
});

describe('formatAgo', () => {
  it.each([
    [0, 'just now'],
    [-5000, 'just now'],
    [59_000, '59s ago'],
    [60_000, '1m ago'],
    [3 * 3600_000, '3h ago'],
    [47 * 3600_000, '47h ago'],
    [49 * 3600_000, '2d ago'],
  ])('%i ms ago reads %s', (ms, text) => {
    expect(formatAgo(1_000_000_000_000 - ms, 1_000_000_000_000)).toBe(text);
  });
});
