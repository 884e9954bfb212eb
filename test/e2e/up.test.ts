import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { isAlive } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

type Ev = Record<string, unknown> & { type: string };

function up(root: string, extra: string[] = ['--json']): DevsupProcess {
  const p = new DevsupProcess(['up', ...extra], { cwd: root });
  running.push(p);
  return p;
}

const SERVICE = (name: string, delayMs = 0) =>
  [
    "process.on('SIGTERM', () => process.exit(0));",
    'setInterval(() => {}, 1000);',
    `setTimeout(() => console.log('${name} ready pid=' + process.pid + ' gen=' + process.env.DEVSUP_GENERATION), ${delayMs});`,
  ].join('\n');

function config(root: string, workers: unknown[]): void {
  writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers }, null, 2));
}

const idx = (evs: Ev[], pred: (e: Ev) => boolean) => evs.findIndex(pred);

describe('devsup up', () => {
  it('starts dependants only after what they depend on is ready', async () => {
    const root = tempDir();
    writeTree(root, { 'db/db.mjs': SERVICE('db', 400), 'api/api.mjs': SERVICE('api') });
    config(root, [
      { name: 'api', cmd: ['node', 'api.mjs'], cwd: 'api', dependsOn: ['db'] },
      { name: 'db', cmd: ['node', 'db.mjs'], cwd: 'db', ready: { log: '^db ready' } },
    ]);
    const p = up(root);
    await p.waitForLine(/api ready/);
    const evs = p.events();
    const dbReady = idx(evs, (e) => e.type === 'ready' && e.worker === 'db');
    const apiStarting = idx(evs, (e) => e.type === 'worker-starting' && e.worker === 'api');
    expect(dbReady).toBeGreaterThanOrEqual(0);
    expect(evs[dbReady]!.how).toBe('log');
    expect(apiStarting).toBeGreaterThan(dbReady);
  });

  it('a change during a task run cancels it and runs the task again on the new code', async () => {
    const root = tempDir();
    writeTree(root, {
      't/check.mjs': "const { v } = await import('./v.mjs'); console.log('RUN v=' + v); setTimeout(() => process.exit(v === 'bad' ? 1 : 0), 1500);",
      't/v.mjs': "export const v = 'one';",
    });
    config(root, [{ name: 'check', cmd: ['node', 'check.mjs'], cwd: 't', kind: 'task' }]);
    const p = up(root);
    await p.waitForLine(/RUN v=one/);
    writeFileSync(join(root, 't/v.mjs'), "export const v = 'two';");
    const cancelled = await p.waitForEvent((e) => e.type === 'task-finished' && e.result === 'cancelled', 'cancelled run');
    expect(cancelled.generation).toBe(1);
    const passed = await p.waitForEvent((e) => e.type === 'task-finished' && e.result === 'passed', 'rerun passed');
    expect(passed).toMatchObject({ generation: 2, code: 0 });
    writeFileSync(join(root, 't/v.mjs'), "export const v = 'bad';");
    const failed = await p.waitForEvent((e) => e.type === 'task-finished' && e.result === 'failed', 'failing run');
    expect(failed).toMatchObject({ generation: 3, code: 1, changedFiles: 1 });
    expect(p.events().filter((e) => e.type === 'task-finished').map((e) => e.result)).toEqual(['cancelled', 'passed', 'failed']);
  });

  it('a task with repeat runs that many times on each code and summarises the failures', async () => {
    const root = tempDir();
    writeTree(root, { 't/t.mjs': 'process.exit(Number(process.env.DEVSUP_GENERATION) % 2 === 0 ? 1 : 0);' });
    config(root, [{ name: 't', cmd: ['node', 't.mjs'], cwd: 't', kind: 'task', repeat: 4 }]);
    const p = up(root);
    const summary = await p.waitForEvent((e) => e.type === 'task-summary', 'summary after 4 runs');
    expect(summary).toMatchObject({ worker: 't', runs: 4, failed: 2 });
    expect(p.events().filter((e) => e.type === 'task-finished').map((e) => e.result)).toEqual(['passed', 'failed', 'passed', 'failed']);
    const runs = await waitFor(async () => {
      const r = await runDevsup(['history', '--json'], root);
      const list = JSON.parse(r.stdout) as Array<{ worker: string; result: string; generation: number; codeId: string }>;
      return list.length === 4 ? list : undefined;
    }, 'four runs in the history');
    expect(runs.map((r) => `${r.generation}:${r.result}`)).toEqual(['4:failed', '3:passed', '2:failed', '1:passed']);
    expect(new Set(runs.map((r) => r.codeId)).size).toBe(1);
  });

  it('applies config edits: added workers start, removed ones stop, invalid edits are reported and ignored', async () => {
    const root = tempDir();
    writeTree(root, { 'a/a.mjs': SERVICE('a'), 'b/b.mjs': SERVICE('b') });
    config(root, [{ name: 'a', cmd: ['node', 'a.mjs'], cwd: 'a' }]);
    const p = up(root);
    const aLine = await p.waitForLine(/a ready/);
    const aPid = Number(/pid=(\d+)/.exec(aLine)![1]);
    config(root, [
      { name: 'a', cmd: ['node', 'a.mjs'], cwd: 'a' },
      { name: 'b', cmd: ['node', 'b.mjs'], cwd: 'b' },
    ]);
    await p.waitForLine(/b ready/);
    expect(isAlive(aPid)).toBe(true);
    writeFileSync(join(root, 'devsup.config.json'), '{ "workers": [ { "name": "a", "grace": "soon" } ] }');
    const bad = await p.waitForEvent((e) => e.type === 'config-check' && (e.problems as string[]).length > 0, 'invalid edit reported');
    expect(bad.problems).toContain('workers[0].grace (line 1, column 31): expected a duration (500, 500ms, 2s, 1m), got "soon"');
    config(root, [{ name: 'b', cmd: ['node', 'b.mjs'], cwd: 'b' }]);
    await p.waitForEvent((e) => e.type === 'config-check' && (e.problems as string[]).length === 0, 'the file valid again');
    await waitFor(() => !isAlive(aPid), 'worker a stopped after its removal');
    expect(p.events().filter((e) => e.type === 'worker-started' && e.worker === 'b')).toHaveLength(1);
  });

  it('status tells, and exits 1, while the config file holds an edit that does not validate', async () => {
    const root = tempDir();
    writeTree(root, { 'a/a.mjs': SERVICE('a') });
    const good = [{ name: 'a', cmd: ['node', 'a.mjs'], cwd: 'a' }];
    config(root, good);
    const p = up(root);
    await p.waitForLine(/a ready/);
    const file = join(root, 'devsup.config.json');
    expect((await runDevsup(['status'], root)).stdout).not.toMatch(/^config:/m);
    writeFileSync(file, '{ "workers": [ { "name": "a", "cmd": ["node", "a.mjs"], "cwd": "a", "grace": "soon" } ] }');
    await p.waitForEvent((e) => e.type === 'config-check' && (e.problems as string[]).length > 0, 'the invalid edit reported');
    const text = await runDevsup(['status'], root);
    expect(text.code).toBe(1);
    expect(text.stdout).toContain(`config: the last edit of ${file} does not validate; still running the config before it:`);
    expect(text.stdout).toMatch(/^ {2}workers\[0\]\.grace \(line 1, column \d+\): expected a duration/m);
    const json = await runDevsup(['status', '--json'], root);
    expect(json.code).toBe(1);
    const snap = JSON.parse(json.stdout) as { ok: boolean; configRejected?: { file: string; problems: string[] } };
    expect(snap.ok).toBe(false);
    expect(snap.configRejected?.file).toBe(file);
    expect(snap.configRejected?.problems.some((m) => m.includes('expected a duration'))).toBe(true);
    config(root, good);
    await p.waitForEvent((e) => e.type === 'config-check' && (e.problems as string[]).length === 0, 'the file valid again');
    const after = await runDevsup(['status', '--json'], root);
    expect((JSON.parse(after.stdout) as { configRejected?: unknown }).configRejected).toBeUndefined();
  });

  it('wait-fresh right after a save of the config answers about the workers that save describes', async () => {
    const root = tempDir();
    writeTree(root, { 'a/a.mjs': "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000); console.log('a ready V=' + process.env.V);" });
    const worker = (v: string) => ({ name: 'a', cmd: ['node', 'a.mjs'], cwd: 'a', env: { V: v }, ready: { log: 'a ready' } });
    config(root, [worker('v0')]);
    const p = up(root);
    await p.waitForLine(/a ready V=v0/);
    for (const v of ['v1', 'v2', 'v3']) {
      // No pause between the save and the question: the answer must already be about the new env.
      config(root, [worker(v)]);
      const r = await runDevsup(['wait-fresh', '--timeout', '20s'], root);
      expect(r.code, r.stderr).toBe(0);
      expect(p.text()).toContain(`a ready V=${v}`);
    }
    writeFileSync(join(root, 'devsup.config.json'), '{ "workers": [ { "name": "a", "cmd": ["node", "a.mjs"], "cwd": "a", "grace": "soon" } ] }');
    const bad = await runDevsup(['wait-fresh', '--timeout', '20s'], root);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('does not validate; still running the config before it');
    expect(bad.stderr).toMatch(/workers\[0\]\.grace .*expected a duration/);
  });

  it('a named pipe put in place of the config is reported, and never blocks the supervisor', async () => {
    const root = tempDir();
    writeTree(root, { 'a/a.mjs': SERVICE('a') });
    config(root, [{ name: 'a', cmd: ['node', 'a.mjs'], cwd: 'a' }]);
    const p = up(root);
    await p.waitForLine(/a ready/);
    const file = join(root, 'devsup.config.json');
    rmSync(file);
    execFileSync('mkfifo', [file]);
    const bad = await p.waitForEvent((e) => e.type === 'config-check' && (e.problems as string[]).length > 0, 'the pipe reported');
    expect(bad.problems).toEqual(['not a regular file (a named pipe)']);
    const st = await runDevsup(['status'], root);
    expect(st.code).toBe(1);
    expect(st.stdout).toContain('not a regular file (a named pipe)');
  });

  it('an edit of the config restarts no worker watching its directory unless the worker changed', async () => {
    const root = tempDir();
    writeTree(root, { 'a.mjs': SERVICE('a') });
    config(root, [{ name: 'a', cmd: ['node', 'a.mjs'] }]);
    const p = up(root);
    await p.waitForLine(/a ready/);
    writeFileSync(join(root, 'devsup.config.json'), '{ "workers": [ { "name": "a", "cmd": ["node", "a.mjs"], "grace": "soon" } ] }');
    await p.waitForEvent((e) => e.type === 'config-check' && (e.problems as string[]).length > 0, 'the invalid edit reported');
    // A valid edit that leaves the worker as it was, comments and all.
    writeFileSync(join(root, 'devsup.config.json'), '{ // the same worker\n "workers": [ { "name": "a", "cmd": ["node", "a.mjs"] }, ] }');
    await p.waitForEvent((e) => e.type === 'config-check' && (e.problems as string[]).length === 0, 'the file valid again');
    await new Promise((r) => setTimeout(r, 600));
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(1);
    // The worker's own files still restart it.
    writeFileSync(join(root, 'a.mjs'), `${SERVICE('a')}\n// edited`);
    await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'a restart for its own file');
  });

  it('stops every tree on Ctrl-C and prints prefixed output without the dashboard', async () => {
    const root = tempDir();
    writeTree(root, { 'a/a.mjs': SERVICE('a'), 'b/b.mjs': SERVICE('b') });
    config(root, [
      { name: 'a', cmd: ['node', 'a.mjs'], cwd: 'a' },
      { name: 'b', cmd: 'node b.mjs', cwd: 'b' },
    ]);
    const p = up(root, ['--no-tui']);
    const a = await p.waitForLine(/^a \| a ready/);
    const b = await p.waitForLine(/^b \| b ready/);
    const pids = [a, b].map((l) => Number(/pid=(\d+)/.exec(l)![1]));
    expect(await p.stop('SIGINT')).toBe(130);
    for (const pid of pids) expect(isAlive(pid)).toBe(false);
  });

  it('refuses an invalid config with every problem and starts nothing', async () => {
    const root = tempDir();
    writeFileSync(
      join(root, 'devsup.config.json'),
      JSON.stringify({ workers: [{ name: 'a', cmd: ['node', 'x.mjs'], grace: '2 s', colour: 'red' }, { name: 'a', cmd: 'true', dependsOn: ['zz'] }] }),
    );
    const r = await runDevsup(['up', '--no-tui'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^devsup: invalid config .*devsup\.config\.json:/);
    expect(r.stderr).toMatch(/workers\[0\]\.grace \(line 1, column \d+\): expected a duration \(500, 500ms, 2s, 1m\), got "2 s"/);
    expect(r.stderr).toMatch(/workers\[0\].*colour/);
    expect(r.stderr).toMatch(/duplicate/);
    expect(r.stderr).toMatch(/zz/);
    expect(r.stdout).toBe('');
  });

  it('says so when there is no config file', async () => {
    const r = await runDevsup(['up'], tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^devsup: no config file at .*devsup\.config\.json/);
  });
});
