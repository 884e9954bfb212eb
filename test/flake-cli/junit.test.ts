import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRate, wilson } from '../../src/history/stats.js';
import { runDevsup } from '../helpers/devsup.js';
import { CLI_TIMEOUT_MS, project } from './project.js';

function rateText(failed: number, runs: number): string {
  const w = wilson(failed, runs);
  return `${formatRate(w.rate)} (95% CI ${formatRate(w.low)}–${formatRate(w.high)})`;
}

/** `output: run 3 path, run 6 path` as run numbers and absolute paths. */
function outputs(line: string | undefined, cwd: string): { run: number; path: string }[] {
  return [...(line ?? '').matchAll(/run (\d+) (\S+\.log)/g)].map((m) => ({ run: Number(m[1]), path: resolve(cwd, m[2]!) }));
}

function linesAfter(stdout: string, head: string, count: number): string[] {
  const lines = stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith(head));
  expect(at, `"${head}" in:\n${stdout}`).toBeGreaterThanOrEqual(0);
  return lines.slice(at, at + count);
}

describe('devsup flake, per test case', () => {
  it('real pytest: failures per case from the JUnit report devsup asks for, with message and saved output', async () => {
    const dir = project();
    writeFileSync(
      join(dir, 'test_login.py'),
      [
        'import os',
        'RUN = int(os.environ["FLAKE_RUN"])',
        'def test_stable():',
        '    pass',
        'def test_token():',
        '    assert RUN % 3 != 0, f"token expired in run {RUN}"',
        'class TestSession:',
        '    def test_cookie(self):',
        '        assert RUN % 5 != 0, "cookie lost"',
        '',
      ].join('\n'),
    );
    const r = await runDevsup(['flake', '-n', '10', '-j', '2', '--', 'python3', '-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_login.py'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(`5 of 10 failed: failure rate ${rateText(5, 10)}`);
    const [head, token, tokenMsg, tokenOut, cookie, cookieMsg, cookieOut] = linesAfter(r.stdout, 'tests:', 7);
    expect(head).toBe('tests: 3 cases in the JUnit reports of 10 runs');
    expect(token).toBe(`  ✘ test_login::test_token: failed 3/10, ${rateText(3, 10)}`);
    expect(tokenMsg).toBe('      AssertionError: token expired in run 3');
    const tokenLogs = outputs(tokenOut, dir);
    expect(tokenLogs.map((l) => l.run)).toEqual([3, 6, 9]);
    expect(readFileSync(tokenLogs[1]!.path, 'utf8')).toContain('token expired in run 6');
    expect(cookie).toBe(`  ✘ test_login.TestSession::test_cookie: failed 2/10, ${rateText(2, 10)}`);
    expect(cookieMsg).toBe('      AssertionError: cookie lost');
    expect(outputs(cookieOut, dir).map((l) => l.run)).toEqual([5, 10]);
    // The per-run reports were devsup's own, and are gone with the session.
    const sessions = readdirSync(join(dir, '.devsup', 'flake'));
    expect(existsSync(join(dir, '.devsup', 'flake', sessions[0]!, 'junit'))).toBe(false);
  }, 120_000);

  it('real node --test: nested suites named, spec output kept in the saved log', async () => {
    const dir = project();
    writeFileSync(
      join(dir, 'login.test.mjs'),
      [
        "import { test, describe } from 'node:test';",
        "import assert from 'node:assert';",
        'const RUN = Number(process.env.FLAKE_RUN);',
        "test('stable', () => {});",
        "describe('session', () => {",
        "  test('cookie', () => { assert.ok(RUN % 4 !== 0, `cookie lost in run ${RUN}`); });",
        '});',
        '',
      ].join('\n'),
    );
    const r = await runDevsup(['flake', '-n', '8', '-j', '2', '--', 'node', '--test', 'login.test.mjs'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(1);
    const [head, cookie, msg, out] = linesAfter(r.stdout, 'tests:', 4);
    expect(head).toBe('tests: 2 cases in the JUnit reports of 8 runs');
    expect(cookie).toBe(`  ✘ session > cookie: failed 2/8, ${rateText(2, 8)}`);
    expect(msg).toBe('      cookie lost in run 4');
    const logs = outputs(out, dir);
    expect(logs.map((l) => l.run)).toEqual([4, 8]);
    // The spec reporter still writes to stdout, which is what the saved output shows.
    const log = readFileSync(logs[0]!.path, 'utf8');
    expect(log).toContain('cookie lost in run 4');
    expect(log).toMatch(/✖ cookie/);
  }, 120_000);

  it('--junit PATH with {run}: reads the report the command writes; a cut-short report is counted without a name', async () => {
    const dir = project();
    mkdirSync(join(dir, 'out'));
    // Writes a report per run; run 2 fails case "b", run 3 dies having written half a report.
    writeFileSync(
      join(dir, 'suite.mjs'),
      [
        "import { writeFileSync } from 'node:fs';",
        'const run = Number(process.env.DEVSUP_FLAKE_RUN);',
        'const path = `out/report-${run}.xml`;',
        "const b = run === 2 ? '<testcase classname=\"s\" name=\"b\"><failure message=\"b broke\"/></testcase>' : '<testcase classname=\"s\" name=\"b\"/>';",
        "const xml = `<?xml version=\"1.0\"?><testsuites><testsuite name=\"s\"><testcase classname=\"s\" name=\"a\"/>${b}</testsuite></testsuites>`;",
        'writeFileSync(path, run === 3 ? xml.slice(0, 60) : xml);',
        'process.exitCode = run === 2 || run === 3 ? 1 : 0;',
        '',
      ].join('\n'),
    );
    const r = await runDevsup(['flake', '-n', '4', '-j', '2', '--junit', 'out/report-{run}.xml', '--', 'node', 'suite.mjs'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('devsup: warning: some runs left a JUnit report that is not valid XML (cut short?); their failures have no test name');
    const [head, b, msg, , unexplained] = linesAfter(r.stdout, 'tests:', 5);
    expect(head).toBe('tests: 2 cases in the JUnit reports of 3 runs');
    expect(b).toBe(`  ✘ s > b: failed 1/3, ${rateText(1, 3)}`);
    expect(msg).toBe('      b broke');
    expect(unexplained).toBe('  1 failing runs had no failing test case in a report (crash, setup error, no report): runs 3');
  }, 60_000);

  it('--junit PATH without {run}: every run writes one file, so runs go one at a time', async () => {
    const dir = project();
    writeFileSync(
      join(dir, 'one.mjs'),
      "import { writeFileSync } from 'node:fs';\nwriteFileSync('report.xml', '<testsuite name=\"t\"><testcase name=\"x\"/></testsuite>');\n",
    );
    const r = await runDevsup(['flake', '-n', '3', '-j', '3', '--junit', 'report.xml', '--', 'node', 'one.mjs'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('devsup: note: every run writes report.xml, so runs go one at a time');
    expect(r.stdout).toContain('tests: 1 cases in the JUnit reports of 3 runs\n  no test case failed');
  }, 60_000);

  it('a command that picks its own reporter is left alone, with a note', async () => {
    const dir = project();
    writeFileSync(join(dir, 'ok.test.mjs'), "import { test } from 'node:test';\ntest('ok', () => {});\n");
    const r = await runDevsup(['flake', '-n', '2', '--', 'node', '--test-reporter=tap', '--test', 'ok.test.mjs'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('devsup: note: the command picks its own test reporters: give --junit PATH');
    expect(r.stdout).not.toContain('tests:');
  }, 60_000);
});
