import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers/tmp.js';
import { expectedFailures } from '../flake/prng.js';

export const FLAKY = fileURLToPath(new URL('../fixtures/flaky.mjs', import.meta.url));
export const ALWAYS_PASS = fileURLToPath(new URL('../fixtures/always-pass.mjs', import.meta.url));

/**
 * A temp project with its own `.devsup`, so the ancestor lookup cannot wander into a state
 * directory some other test left higher up.
 */
export function project(): string {
  const dir = tempDir('devsup-flake-');
  mkdirSync(join(dir, '.devsup'));
  return dir;
}

/**
 * Runs (numbered from 1, as `devsup flake` numbers them in FLAKE_RUN) that flaky.mjs fails for
 * p and seed, by the test's own copy of the fixture's PRNG.
 */
export function failingRuns(p: number, seed: number, n: number): number[] {
  return expectedFailures(p, seed, n + 1).filter((i) => i >= 1);
}

/** The `output saved:` lines of a text report, as run number and absolute path. */
export function savedLogs(stdout: string, cwd: string): { run: number; path: string }[] {
  return [...stdout.matchAll(/^ {2}run (\d+): (\S+\.log)$/gm)].map((m) => ({ run: Number(m[1]), path: resolve(cwd, m[2]!) }));
}

/** Seconds are enough here: every run is a short node process, but the machine may be busy. */
export const CLI_TIMEOUT_MS = 60_000;
