import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});
afterAll(removeTempDirs);

function run(root: string, args: string[]): DevsupProcess {
  const p = new DevsupProcess(['run', '--json', ...args], { cwd: root });
  running.push(p);
  return p;
}

/** A check that takes `ms` and exits with the code in code.txt. */
const CHECK = (ms: number) =>
  [
    "import { readFileSync } from 'node:fs';",
    "const code = Number(readFileSync(new URL('./code.txt', import.meta.url), 'utf8'));",
    "console.log('checking gen=' + process.env.DEVSUP_GENERATION);",
    `setTimeout(() => process.exit(code), ${ms});`,
  ].join('\n');

describe('a one-shot command under run', () => {
  it('is judged like a task: status and wait-fresh report the run on the current code', async () => {
    const root = tempDir();
    writeTree(root, { 'check.mjs': CHECK(50), 'code.txt': '0' });
    const p = run(root, ['--', 'node', 'check.mjs']);
    await p.waitForEvent((e) => e.type === 'task-finished' && e.result === 'passed', 'the first run');
    const status = await runDevsup(['status', '--json'], root);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).workers[0]).toMatchObject({ name: 'main', kind: 'task', status: 'passed' });
    expect(await runDevsup(['wait-fresh', '--timeout', '5s'], root)).toMatchObject({ code: 0 });

    // The next run takes a while and fails: wait-fresh waits for it and exits with its result.
    writeFileSync(join(root, 'check.mjs'), CHECK(1500));
    writeFileSync(join(root, 'code.txt'), '1');
    await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'the second run');
    const during = await runDevsup(['status', '--json'], root);
    expect(during.code).toBe(1);
    expect(JSON.parse(during.stdout).workers[0]).toMatchObject({ status: 'running' });
    const waited = await runDevsup(['wait-fresh', '--timeout', '10s'], root);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toContain('main: failed (exit 1)');
    expect(p.events().some((e) => e.type === 'task-finished' && e.generation === 2 && e.result === 'failed')).toBe(true);
    expect((await runDevsup(['status'], root)).stdout).toMatch(/main\s+failed/);
  }, 30_000);

  it('a command that keeps running stays a service: wait-fresh returns while it runs', async () => {
    const root = tempDir();
    writeTree(root, { 'srv.mjs': "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('up pid=' + process.pid);" });
    const p = run(root, ['--', 'node', 'srv.mjs']);
    await p.waitForLine(/^up pid=/);
    expect(await runDevsup(['wait-fresh', '--timeout', '5s'], root)).toMatchObject({ code: 0 });
    const status = JSON.parse((await runDevsup(['status', '--json'], root)).stdout);
    expect(status.workers[0]).toMatchObject({ kind: 'service', status: 'fresh' });
  });

  it('with --on-exit quit, a command that cannot start ends devsup at once: 127 not found, 126 not executable', async () => {
    const root = tempDir();
    writeTree(root, { 'tool.sh': '#!/bin/sh\necho hi\n' });
    chmodSync(join(root, 'tool.sh'), 0o644);
    for (const [cmd, code, msg] of [
      ['devsup-no-such-command', 127, /command not found: devsup-no-such-command/],
      ['./tool.sh', 126, /permission denied: \.\/tool\.sh/],
    ] as const) {
      const p = new DevsupProcess(['run', '--on-exit', 'quit', '--', cmd], { cwd: root });
      running.push(p);
      const res = await Promise.race([p.exit, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 8000).unref())]);
      expect(res).toEqual({ code, signal: null });
      const said = p.lines.filter((l) => l.stream === 'stderr').map((l) => l.text);
      expect(said.filter((l) => msg.test(l))).toHaveLength(1);
      expect(said.join('\n')).not.toMatch(/waiting for a change/);
    }
  });
});
