import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

/** A real node --test suite whose "token" test fails on every third generation. */
const SUITE = [
  "import { test, describe } from 'node:test';",
  "import assert from 'node:assert';",
  'const gen = Number(process.env.DEVSUP_GENERATION);',
  "test('stable', () => {});",
  "describe('auth', () => {",
  "  test('token', () => { assert.ok(gen % 3 !== 0, `token expired in generation ${gen}`); });",
  '});',
  '',
].join('\n');

describe('a task with repeat and a JUnit report', () => {
  it('counts failures per test on each code id, shows them as events, and records the round for --compare --task', async () => {
    const root = tempDir();
    writeTree(root, { 't/auth.test.mjs': SUITE });
    const cmd = ['node', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=junit', '--test-reporter-destination=junit.xml', '--test'];
    writeFileSync(
      join(root, 'devsup.config.json'),
      JSON.stringify({ workers: [{ name: 'unit', cmd, cwd: 't', kind: 'task', repeat: 6, ext: ['mjs'], junit: 'junit.xml' }] }),
    );
    const p = new DevsupProcess(['up', '--json'], { cwd: root });
    running.push(p);
    const summary = await p.waitForEvent((e) => e.type === 'task-summary', 'summary after 6 runs');
    expect(summary).toMatchObject({ worker: 'unit', runs: 6, failed: 2 });
    const last = await p.waitForEvent((e) => e.type === 'task-tests' && e.runs === 6, 'test counts after the sixth run');
    expect(last).toMatchObject({ worker: 'unit', failed: 2, failing: [{ id: 'auth > token', failed: 2, runs: 6 }] });
    const third = p.events().find((e) => e.type === 'task-tests' && e.runs === 3);
    expect(third).toMatchObject({ newFailures: ['auth > token'] });

    const compare = await waitFor(async () => {
      const r = await runDevsup(['flake', '--compare', '--task', 'unit'], root);
      return /^ {2}[0-9a-f]{10}\s+1\s+6\s+2\s/m.test(r.stdout) ? r.stdout : undefined;
    }, 'the round recorded as a session');
    expect(compare.split('\n')[0]).toBe('task unit:');
    expect(compare).toMatch(/^ {2}[0-9a-f]{10}\s+1\s+6\s+2\s+33\.3%/m);
    expect(compare).toContain('only one code id measured');
  }, 120_000);
});
