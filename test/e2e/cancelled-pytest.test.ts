import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/history/record.js';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

// Runs until it is cancelled (a minute at most, should the cancel never come).
const SLOW = ['import time', '', 'def test_slow():', "    print('RUNNING slow', flush=True)", '    time.sleep(60)', ''].join('\n');
const QUICK = ['def test_slow():', "    print('RUNNING quick', flush=True)", ''].join('\n');

describe('a pytest run cancelled by an edit', () => {
  it('is told as cancelled by that edit, in the output of up and in the history, without a count of files', { timeout: 60_000 }, async () => {
    const root = tempDir();
    writeTree(root, { 'test_slow.py': SLOW });
    writeFileSync(
      join(root, 'devsup.config.json'),
      JSON.stringify({ workers: [{ name: 'tests', cmd: ['python3', '-m', 'pytest', '-q', '-s', '-p', 'no:cacheprovider'], kind: 'task' }] }),
    );
    const p = new DevsupProcess(['up', '--no-tui'], { cwd: root });
    running.push(p);
    await p.waitForLine(/RUNNING slow/, 'the slow run', 30_000);
    writeFileSync(join(root, 'test_slow.py'), QUICK);
    const line = await p.waitForLine(/cancelled/, 'the cancelled run', 30_000);
    expect(line).toMatch(/cancelled after \S+: test_slow\.py changed while it ran$/);
    expect(line).not.toMatch(/files? changed since/);
    await p.waitForLine(/passed/, 'the run on the edited code', 30_000);

    // wait-fresh answers once the records of the runs so far are written.
    expect((await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000)).code).toBe(0);
    const h = await runDevsup(['history', 'tests', '--json'], root);
    const records = JSON.parse(h.stdout) as RunRecord[];
    expect(records.map((r) => r.result)).toEqual(['passed', 'cancelled']);
    expect(records[1]!.cancelledBy).toEqual({ stop: 'change', files: ['test_slow.py'] });
    const table = await runDevsup(['history', 'tests'], root);
    expect(table.stdout).toMatch(/^⊘ +tests .*cancelled: test_slow\.py changed while it ran$/m);
  });
});
