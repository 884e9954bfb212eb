import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatP } from '../../src/flake/compare.js';
import { fisherExact } from '../../src/history/stats.js';
import { runDevsup } from '../helpers/devsup.js';
import { expectedFailures } from '../flake/prng.js';
import { CLI_TIMEOUT_MS, FLAKY, project } from './project.js';

/** The same command on two versions of the code: only the failure rate in check.mjs changes. */
function writeCheck(dir: string, p: number): void {
  writeFileSync(join(dir, 'check.mjs'), `process.argv.push(${JSON.stringify(String(p))}, '11');\nawait import(${JSON.stringify(FLAKY)});\n`);
}

const codeIdOf = (stdout: string, row: number): string => stdout.split('\n')[2 + row]!.trim().split(/\s+/)[0]!;

describe('devsup flake --compare', () => {
  it('before and after a fix: rate per code id and Fisher’s test on the two latest, then --baseline last', async () => {
    const dir = project();
    const before = expectedFailures(0.15, 11, 41).filter((i) => i >= 1).length;
    expect(before).toBeGreaterThanOrEqual(3);
    writeCheck(dir, 0.15);
    const cmd = ['--', 'node', 'check.mjs'];
    const r1 = await runDevsup(['flake', '-n', '40', '-j', '3', ...cmd], dir, CLI_TIMEOUT_MS);
    expect(r1.code, r1.stderr).toBe(1);

    const only = await runDevsup(['flake', '--compare'], dir, CLI_TIMEOUT_MS);
    expect(only.stdout).toContain('only one code id measured');

    writeCheck(dir, 0);
    const r2 = await runDevsup(['flake', '-n', '60', '-j', '3', ...cmd], dir, CLI_TIMEOUT_MS);
    expect(r2.code, r2.stderr).toBe(0);

    const c = await runDevsup(['flake', '--compare', ...cmd], dir, CLI_TIMEOUT_MS);
    expect(c.code, c.stderr).toBe(0);
    const lines = c.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('node check.mjs:');
    expect(lines[1]!.trim().split(/\s{2,}/)).toEqual(['CODE', 'SESSIONS', 'RUNS', 'FAILED', 'RATE (95% CI)']);
    const [a, b] = [codeIdOf(c.stdout, 0), codeIdOf(c.stdout, 1)];
    expect(a).toMatch(/^[0-9a-f]{10}$/);
    expect(b).not.toBe(a);
    const p = fisherExact(before, 40, 0, 60);
    expect(p).toBeLessThan(0.05);
    expect(lines[4]).toBe(`failed ${before}/40 on ${a}, 0/60 on ${b}: fixed, ${formatP(p)}`);

    // The latest command is the default; a different command has no sessions.
    const latest = await runDevsup(['flake', '--compare'], dir, CLI_TIMEOUT_MS);
    expect(latest.stdout).toBe(c.stdout);
    const other = await runDevsup(['flake', '--compare', '--', 'node', 'other.mjs'], dir, CLI_TIMEOUT_MS);
    expect(other.stdout.trimEnd()).toBe('no flake sessions recorded for this command');

    // history --flaky shows the same, for every command measured.
    const h = await runDevsup(['history', '--flaky'], dir, CLI_TIMEOUT_MS);
    expect(h.stdout.trimEnd()).toBe(c.stdout.trimEnd());
    const none = await runDevsup(['history', '--flaky', 'some-task'], dir, CLI_TIMEOUT_MS);
    expect(none.stdout.trimEnd()).toBe('no flake sessions or repeated task rounds recorded yet');

    // Is it fixed, against the rate recorded before the fix?
    const d = await runDevsup(['flake', '--baseline', 'last', '-j', '4', ...cmd], dir, CLI_TIMEOUT_MS);
    expect(d.stderr).toContain(`baseline ${((before / 40) * 100).toFixed(1)}%: ${before} of 40 runs failed on ${a} (1 session)`);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stdout.split('\n')[0]).toMatch(/^fixed: failure rate below the baseline/);
  }, 180_000);
});

describe('formatP', () => {
  it('two significant digits, and no false precision at the ends', () => {
    expect(formatP(0.014748)).toBe('p = 0.015');
    expect(formatP(0.0004)).toBe('p < 0.001');
    expect(formatP(0.9999)).toBe('p = 1');
    expect(formatP(0.31)).toBe('p = 0.31');
  });
});
