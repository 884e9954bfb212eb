import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sequentialDesign, sequentialTracker } from '../../src/flake/sequential.js';
import { runDevsup } from '../helpers/devsup.js';
import { isAlive, trackPid } from '../helpers/procs.js';
import { expectedFailures } from '../flake/prng.js';
import { CLI_TIMEOUT_MS, FLAKY, project } from './project.js';

/** Where the rule decides on flaky.mjs's runs 1.. (FLAKE_RUN numbers from 1), by the test's own PRNG copy. */
function predicted(p: number, seed: number, cap: number, fixedRate = 0.005): { verdict: string; runs: number; failed: number } {
  const failing = new Set(expectedFailures(p, seed, cap + 1));
  const t = sequentialTracker(sequentialDesign(0.05, fixedRate, 0.95));
  for (let run = 1; run <= cap; run++) if (t.add(failing.has(run)) !== null) break;
  return { verdict: t.verdict ?? 'undecided', runs: t.runs, failed: t.failed };
}

function historyRecords(dir: string): { result: string; generation: number }[] {
  return readFileSync(join(dir, '.devsup', 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
}

describe('devsup flake --baseline', () => {
  it('a program that never fails: says how many runs it can take, then "fixed" after exactly 65 runs, exit 0', async () => {
    const dir = project();
    const r = await runDevsup(['flake', '--baseline', '5%', '-j', '4', '--', 'node', FLAKY, '0', '1'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('"fixed" after 65 runs if none fails (each failure adds about 50); "not fixed" after 2 failures at the soonest; at most 260 runs');
    const out = r.stdout.split('\n');
    expect(out[0]).toBe('fixed: failure rate below the baseline 5.0% (95% confidence); 0 of 65 runs failed');
    expect(out[1]).toBe('0 of 65 failed: failure rate below 4.5% with 95% confidence');
    // Runs after the deciding one are not counted: those still going were stopped (cancelled in the
    // history); those that ended before run 65 did (it may be slow) are recorded as what they were.
    const recs = historyRecords(dir);
    const passed = new Set(recs.filter((x) => x.result === 'passed').map((x) => x.generation));
    for (let run = 1; run <= 65; run++) expect(passed.has(run), `run ${run}`).toBe(true);
    expect(recs.filter((x) => x.result === 'failed')).toEqual([]);
  }, 120_000);

  it('--fixed-rate 0 reproduces the classic 59 passes in a row', async () => {
    const dir = project();
    const r = await runDevsup(['flake', '--baseline', '5%', '--fixed-rate', '0', '-j', '4', '--', 'node', FLAKY, '0', '1'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('"fixed" after 59 runs if none fails; "not fixed" at the first failure; at most 236 runs');
    expect(r.stdout.split('\n')[0]).toBe('fixed: failure rate below the baseline 5.0% (95% confidence); 0 of 59 runs failed');
  }, 120_000);

  it('a clearly broken program (30%): "not fixed" within a few runs, where the seed says, exit 1', async () => {
    const dir = project();
    const want = predicted(0.3, 7, 260);
    expect(want.verdict).toBe('not-fixed');
    expect(want.runs).toBeLessThan(20);
    const r = await runDevsup(['flake', '--baseline', '5%', '-j', '3', '--', 'node', FLAKY, '0.3', '7'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.split('\n')[0]).toBe(
      `not fixed: ${want.failed} failures in ${want.runs} runs, rate compatible with the baseline 5.0% (above 0.5%, 95% confidence)`,
    );
  }, 120_000);

  it('a rate sitting at the baseline with a small cap: undecided, exit 3', async () => {
    const dir = project();
    // Seed 3 gives one failure in the first 30 runs: neither boundary is reached.
    const want = predicted(0.05, 3, 30);
    expect(want).toEqual({ verdict: 'undecided', runs: 30, failed: 1 });
    const r = await runDevsup(['flake', '--baseline', '5%', '-n', '30', '-j', '3', '--', 'node', FLAKY, '0.05', '3'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout.split('\n')[0]).toBe(
      'undecided at the cap of 30 runs: 1 failed, which tells neither "below 5.0%" nor "above 0.5%" at 95%; run again with a larger -n',
    );
  }, 120_000);

  it('stops the runs still going once the answer is in, grandchildren too', async () => {
    const dir = project();
    mkdirSync(join(dir, 'pids'));
    // Runs 1 and 2 fail once runs 3 and 4 are up; those would run forever with a grandchild each.
    writeFileSync(
      join(dir, 'hang.mjs'),
      [
        "import { spawn } from 'node:child_process';",
        "import { readdirSync, writeFileSync } from 'node:fs';",
        'const run = Number(process.env.FLAKE_RUN);',
        'if (run <= 2) {',
        "  const t0 = Date.now();",
        "  const wait = () => (readdirSync('pids').length >= 4 || Date.now() - t0 > 10000 ? process.exit(1) : setTimeout(wait, 20));",
        '  wait();',
        '} else {',
        "  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });",
        "  writeFileSync(`pids/${run}-${child.pid}`, '');",
        "  writeFileSync(`pids/${run}-${process.pid}`, '');",
        '  setInterval(() => {}, 1000);',
        '}',
        '',
      ].join('\n'),
    );
    const r = await runDevsup(['flake', '--baseline', '5%', '-j', '4', '--', 'node', 'hang.mjs'], dir, CLI_TIMEOUT_MS);
    const pids = readdirSync(join(dir, 'pids')).map((n) => Number(n.split('-')[1]));
    for (const pid of pids) trackPid(pid);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout.split('\n')[0]).toMatch(/^not fixed: 2 failures in 2 runs/);
    // Runs 3 and 4 at least (run 5 starts if run 1 ends before run 2 does).
    expect(pids.length).toBeGreaterThanOrEqual(4);
    expect(pids.filter(isAlive)).toEqual([]);
    const recs = historyRecords(dir).sort((a, b) => a.generation - b.generation);
    expect(recs.slice(0, 2).map((x) => x.result)).toEqual(['failed', 'failed']);
    expect(recs.length).toBeGreaterThanOrEqual(4);
    expect(recs.slice(2).every((x) => x.result === 'cancelled')).toBe(true);
  }, 120_000);

  it('usage errors are one line, exit 2, before anything runs', async () => {
    const dir = project();
    for (const [args, message] of [
      [['--baseline', '5'], /expected a rate such as 5% or 0.05, got "5"/],
      [['--baseline', '5%', '--until-fail'], /two different stopping rules/],
      [['--baseline', '5%', '--fixed-rate', '6%'], /--fixed-rate must be below the baseline/],
      [['--baseline', 'last'], /no earlier flake session of "node .*flaky.mjs 0 1" on other code had a failure; give the rate instead/],
      [['--baseline', '5%', '--confidence', '40%'], /confidence above 50%/],
    ] as const) {
      const r = await runDevsup(['flake', ...args, '--', 'node', FLAKY, '0', '1'], dir, CLI_TIMEOUT_MS);
      expect(r.code, r.stderr).toBe(2);
      // One line, plus commander's own pointer to --help for a malformed value.
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toMatch(message);
      expect(lines.slice(1).filter((l) => l !== '(run with --help for usage)')).toEqual([]);
    }
  }, 60_000);
});
