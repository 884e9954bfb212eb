import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatRate, wilson, zeroFailureUpperBound } from '../../src/history/stats.js';
import pty from 'node-pty';
import { BIN, runDevsup } from '../helpers/devsup.js';
import { trackPid } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';
import { tempDir } from '../helpers/tmp.js';
import { ALWAYS_PASS, CLI_TIMEOUT_MS, FLAKY, failingRuns, project, savedLogs } from './project.js';

describe('devsup flake', () => {
  it('counts exactly the failures the seed decides, saves the first three, exits 1', async () => {
    const dir = project();
    const failing = failingRuns(0.2, 42, 20);
    // Guards the copy of the PRNG: if it drifted, every number below would be wrong together.
    expect(failing).toEqual([3, 7, 11, 12]);
    const r = await runDevsup(['flake', '-n', '20', '-j', '2', '--', 'node', FLAKY, '0.2', '42'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(1);

    const w = wilson(failing.length, 20);
    const headline = `${failing.length} of 20 failed: failure rate ${formatRate(w.rate)} (95% CI ${formatRate(w.low)}–${formatRate(w.high)})`;
    expect(headline).toBe('4 of 20 failed: failure rate 20.0% (95% CI 8.1%–41.6%)');
    const out = r.stdout.split('\n');
    expect(out[0]).toBe(headline);
    expect(out).toContainEqual(expect.stringMatching(/^run time: median \d+(\.\d)?m?s, p95 \d+(\.\d)?m?s$/));
    expect(out).toContain('first 3 failures (1 more not shown):');
    for (const run of failing.slice(0, 3)) {
      expect(out).toContain(`  run ${run}: exit code 1`);
      expect(out).toContain(`    | run ${run}: checking`);
      expect(out).toContainEqual(expect.stringMatching(new RegExp(`^ {4}\\| run ${run}: failed \\(draw`)));
    }

    const logs = savedLogs(r.stdout, dir);
    expect(logs.map((l) => l.run)).toEqual([3, 7, 11]);
    for (const { run, path } of logs) {
      expect(path).toMatch(new RegExp(`/\\.devsup/flake/[^/]+/run-${run}\\.log$`));
      const text = readFileSync(path, 'utf8');
      expect(text).toContain(`run ${run}: checking`);
      expect(text).toMatch(new RegExp(`run ${run}: failed \\(draw 0\\.\\d+ < 0\\.2\\)`));
    }
    // Only the runs shown are saved: the fourth failure has no file.
    expect(existsSync(join(logs[0]!.path, '..', 'run-12.log'))).toBe(false);
  }, 90_000);

  it('prints the one-sided bound for n when nothing fails, exits 0', async () => {
    const dir = project();
    const r = await runDevsup(['flake', '-n', '50', '-j', '4', '--', 'node', ALWAYS_PASS], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(0);
    expect(formatRate(zeroFailureUpperBound(50))).toBe('5.8%');
    expect(r.stdout.split('\n')[0]).toBe('0 of 50 failed: failure rate below 5.8% with 95% confidence');
    expect(r.stdout).not.toMatch(/output saved/);
    expect(existsSync(join(dir, '.devsup', 'flake'))).toBe(false);

    const small = await runDevsup(['flake', '-n', '7', '--', 'node', ALWAYS_PASS], dir, CLI_TIMEOUT_MS);
    expect(small.code).toBe(0);
    expect(formatRate(zeroFailureUpperBound(7))).toBe('34.8%');
    expect(small.stdout.split('\n')[0]).toBe('0 of 7 failed: failure rate below 34.8% with 95% confidence');
  }, 90_000);

  it('--until-fail launches nothing after the first failure and shows its output', async () => {
    const dir = project();
    const r = await runDevsup(['flake', '-n', '20', '-j', '1', '--until-fail', '--', 'node', FLAKY, '0.2', '42'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(1);
    const out = r.stdout.split('\n');
    expect(out[0]).toBe('1 of 3 failed: failure rate 33.3% (95% CI 6.1%–79.2%)');
    expect(out).toContain('stopped at the first failure after 3 of 20 runs (the rate is biased high)');
    expect(out).toContain('  run 3: exit code 1');
    expect(out).toContain('    | run 3: checking');
    expect(out).toContainEqual(expect.stringMatching(/^ {4}\| run 3: failed \(draw/));
    expect(savedLogs(r.stdout, dir).map((l) => l.run)).toEqual([3]);
  }, 90_000);

  it('prints plain progress lines when stderr is not a terminal', async () => {
    const dir = project();
    const r = await runDevsup(['flake', '-n', '20', '-j', '2', '--', 'node', FLAKY, '0.2', '42'], dir, CLI_TIMEOUT_MS);
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^\[[#.]{10}\] \d+\/20 runs, \d+ failed(, ETA \d+s)?$/);
    expect(lines.at(-1)).toBe('[##########] 20/20 runs, 4 failed');
    // Counts only grow: one line per step of progress, never a redraw.
    const done = lines.map((l) => Number(/ (\d+)\/20/.exec(l)![1]));
    expect(done).toEqual([...done].sort((a, b) => a - b));
  }, 90_000);

  it('redraws one progress line in place on a terminal', async () => {
    const dir = project();
    const term = pty.spawn(process.execPath, [BIN, 'flake', '-n', '6', '-j', '1', '--', 'node', FLAKY, '0.2', '42'], {
      cwd: dir,
      cols: 100,
      rows: 24,
      env: { ...process.env, NO_COLOR: '1' },
    });
    trackPid(term.pid);
    let screen = '';
    term.onData((d) => (screen += d));
    const code = await Promise.race([
      new Promise<number>((r) => term.onExit((e) => r(e.exitCode))),
      new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no exit on the terminal:\n${screen}`)), CLI_TIMEOUT_MS)),
    ]);
    expect(code).toBe(1);
    // A pty may report the exit before the last output is read.
    await waitFor(() => screen.includes('run-3.log'), `the whole report on the terminal:\n${screen}`, 5_000);
    const [progress, ...report] = screen.split('\r\n');
    // Every state drawn over the last from the line start, erasing what a longer one left.
    expect(progress).toMatch(/^(\r\[[#.]{10}\] \d\/6 runs, \d failed(, ETA \d+s)?\x1b\[K)+$/);
    expect(progress!.endsWith('\r[##########] 6/6 runs, 1 failed\x1b[K')).toBe(true);
    expect(report[0]).toBe('1 of 6 failed: failure rate 16.7% (95% CI 3.0%–56.4%)');
  }, 90_000);

  it('gives each run its number in DEVSUP_FLAKE_RUN and FLAKE_RUN, output captured not shown', async () => {
    const dir = project();
    writeFileSync(
      join(dir, 'env.mjs'),
      "console.log(`devsup=${process.env.DEVSUP_FLAKE_RUN} flake=${process.env.FLAKE_RUN}`); process.exitCode = 3;\n",
    );
    const r = await runDevsup(['flake', '-n', '4', '-j', '2', '--', 'node', 'env.mjs'], dir, CLI_TIMEOUT_MS);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe('4 of 4 failed: failure rate 100.0% (95% CI 51.0%–100.0%)');
    expect(r.stderr).not.toContain('devsup=');
    const logs = savedLogs(r.stdout, dir);
    expect(logs.map((l) => l.run)).toEqual([1, 2, 3]);
    for (const { run, path } of logs) expect(readFileSync(path, 'utf8')).toBe(`devsup=${run} flake=${run}\n`);
  }, 90_000);

  it('names the files that changed while the runs went on', async () => {
    const dir = project();
    writeFileSync(join(dir, 'writer.mjs'), "import { writeFileSync } from 'node:fs'; writeFileSync(`out-${process.env.FLAKE_RUN}.txt`, 'x');\n");
    const r = await runDevsup(['flake', '-n', '2', '-j', '1', '--', 'node', 'writer.mjs'], dir, CLI_TIMEOUT_MS);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('devsup: warning: files changed while the runs went on, so they may not all have run the same code: out-1.txt, out-2.txt');

    const quiet = await runDevsup(['flake', '-n', '2', '--', 'node', ALWAYS_PASS], project(), CLI_TIMEOUT_MS);
    expect(quiet.stderr).not.toContain('warning');
  }, 90_000);

  it('--json prints the report as one JSON object', async () => {
    const dir = project();
    const r = await runDevsup(['flake', '-n', '20', '--json', '--', 'node', FLAKY, '0.2', '42'], dir, CLI_TIMEOUT_MS);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout) as Record<string, unknown> & { logs: { run: number; path: string }[] };
    expect(report).toMatchObject({ requested: 20, runs: 20, passed: 16, failed: 4, stopped: null, command: ['node', FLAKY, '0.2', '42'] });
    expect(report.failureRate).toEqual(wilson(4, 20));
    expect(report.logs.map((l) => l.run)).toEqual([3, 7, 11]);
    for (const l of report.logs) expect(readFileSync(l.path, 'utf8')).toContain(`run ${l.run}: failed`);
  }, 90_000);

  describe('usage errors exit 2', () => {
    const cases: [string, string[], RegExp][] = [
      ['no command', ['flake'], /^devsup: no command given; usage: devsup flake/],
      ['n < 1', ['flake', '-n', '0', '--', 'true'], /-n, --runs <n>.*"0"/],
      ['j < 1', ['flake', '-j', '0', '--', 'true'], /-j, --jobs <n>.*"0"/],
      ['n not a number', ['flake', '-n', '5x', '--', 'true'], /-n, --runs <n>.*"5x"/],
      ['an unknown --clear preset', ['flake', '--clear', 'pyhton', '--', 'true'], /unknown --clear preset "pyhton"/],
      ['a command that does not exist', ['flake', '-n', '2', '--', 'devsup-no-such-command'], /^devsup: command not found: devsup-no-such-command$/],
    ];
    it.each(cases)('%s', async (_what, args, message) => {
      const r = await runDevsup(args, tempDir());
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
