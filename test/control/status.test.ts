import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive as pidAlive } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { FIXTURES, readyWorker } from './apps.js';
import { devsup, Harness, startHarness, stopHarnesses } from './rig.js';

afterEach(stopHarnesses);

interface StatusJson {
  ok: boolean;
  pid: number;
  root: string;
  holds: string[];
  workers: Array<{ name: string; status: string; verdict: string; pid: number | null; generation: number; codeId: string | null; startedAt: string | null; staleFiles: string[]; lastTask: { result: string; codeId: string | null } | null }>;
}

const readyGen = (h: Harness, worker: string, gen: number) => h.waitEvent((e) => e.type === 'ready' && e.worker === worker && e.generation === gen, `${worker} ready (gen ${gen})`);

describe('devsup status', () => {
  it('exits 0 when every worker is fresh, 1 with the changed files once one is stale, 3 once none runs', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'src.txt'), 'one\n');
    const h = await startHarness({
      root,
      workers: [readyWorker('web'), readyWorker('pinned', { restartOnChange: false })],
    });
    await readyGen(h, 'web', 1);
    await readyGen(h, 'pinned', 1);

    const fresh = await devsup(['status'], root);
    expect(fresh.code).toBe(0);
    expect(fresh.stdout).toMatch(/^ {2}web +fresh +pid \d+ +gen 1 +started \S+ +code [0-9a-f]+/m);
    const json = JSON.parse((await devsup(['status', '--json'], root)).stdout) as StatusJson;
    expect(json).toMatchObject({ ok: true, pid: h.pid, root, holds: [] });
    const web = json.workers.find((w) => w.name === 'web')!;
    expect(web).toMatchObject({ status: 'fresh', verdict: 'fresh', generation: 1 });
    expect(web.pid).toEqual(expect.any(Number));
    expect(web.codeId).toMatch(/^[0-9a-f]+$/);
    expect(new Date(web.startedAt!).toISOString()).toBe(web.startedAt);

    // `pinned` keeps running its old code; `web` restarts onto the new one.
    writeFileSync(join(root, 'src.txt'), 'two\n');
    await h.waitEvent((e) => e.type === 'stale' && e.worker === 'pinned', 'pinned stale');
    await readyGen(h, 'web', 2);
    const stale = await devsup(['status'], root);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/^ {2}pinned +STALE +pid \d+ +gen 1 .*\n +changed: src\.txt$/m);
    expect(stale.stdout).toMatch(/^ {2}web +fresh +pid \d+ +gen 2 /m);
    const staleJson = JSON.parse((await devsup(['status', '--json'], root)).stdout) as StatusJson;
    expect(staleJson.ok).toBe(false);
    expect(staleJson.workers.find((w) => w.name === 'pinned')).toMatchObject({ status: 'STALE', staleFiles: ['src.txt'] });

    await h.stop();
    const none = await devsup(['status'], root);
    expect(none.code).toBe(3);
    expect(none.stderr).toBe(`devsup: no devsup is running for ${root}`);
  });

  it('exits 1 for a crashed service and for a failed task, and works from a subdirectory', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'lib/deep'), { recursive: true });
    const h = await startHarness({
      root,
      workers: [
        { name: 'crash', command: ['node', `${FIXTURES}exit-with.mjs`, '3'] },
        { name: 'check', kind: 'task', command: ['node', `${FIXTURES}exit-with.mjs`, '1'] },
      ],
    });
    await h.waitEvent((e) => e.type === 'exited' && e.worker === 'crash', 'crash exited');
    await h.waitEvent((e) => e.type === 'task-finished' && e.worker === 'check', 'task finished');
    const r = await devsup(['status'], join(root, 'lib/deep'));
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ {2}crash +crashed .*exit 3/m);
    // The code the last run ran on, for a task with nothing running: the answer to "which code did it test?".
    const on = /^ {2}check +failed .*last run failed in \S+ on code ([0-9a-f]{10})$/m.exec(r.stdout);
    expect(on, r.stdout).not.toBeNull();
    const json = JSON.parse((await devsup(['status', '--json'], root)).stdout) as StatusJson;
    expect(json.workers.find((w) => w.name === 'check')?.lastTask).toMatchObject({ result: 'failed', codeId: on![1] });
  });

  it('says no supervisor runs (exit 3) and removes the socket a killed one left behind', async () => {
    const root = tempDir();
    expect(await devsup(['status'], root)).toMatchObject({ code: 3, stderr: `devsup: no devsup is running for ${root}` });

    const h = await startHarness({ root, workers: [readyWorker()] });
    await readyGen(h, 'main', 1);
    const worker = h.events().find((e) => e.type === 'worker-started')!.pid as number;
    h.proc.kill('SIGKILL');
    await h.exit;
    expect(existsSync(h.socketPath)).toBe(true);
    const r = await devsup(['status', '--json'], root);
    expect(r).toMatchObject({ code: 3, stdout: '', stderr: `devsup: no devsup is running for ${root}` });
    expect(existsSync(h.socketPath)).toBe(false);
    // The orphaned worker is the next supervisor's to stop (see recover.test.ts); here it is just cleaned up.
    process.kill(worker, 'SIGKILL');
    await waitFor(() => !pidAlive(worker), 'orphan gone');
  });

  it('creates the socket 0600 in a 0700 directory, with the lock naming pid, start and socket', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker()] });
    expect(h.socketPath).toBe(join(root, '.devsup/default.sock'));
    const sock = statSync(h.socketPath);
    expect(sock.isSocket()).toBe(true);
    expect(sock.mode & 0o777).toBe(0o600);
    expect(statSync(join(root, '.devsup')).mode & 0o777).toBe(0o700);
    const lock = JSON.parse(readFileSync(join(root, '.devsup/default.lock'), 'utf8')) as Record<string, unknown>;
    expect(lock).toMatchObject({ pid: h.pid, start: expect.stringMatching(/^\d+$/), socketPath: h.socketPath, root, name: 'default' });
    await h.stop();
    expect(existsSync(h.socketPath)).toBe(false);
    expect(existsSync(join(root, '.devsup/default.lock'))).toBe(false);
  });

  it('refuses a second supervisor for the same project and name, allows another name', async () => {
    const root = tempDir();
    const first = await startHarness({ root, workers: [readyWorker()] });
    const second = new Harness({ root, workers: [readyWorker()] });
    expect((await second.exit).code).toBe(2);
    expect(second.out.text('stderr')).toContain(`another devsup is already running for this project (pid ${first.pid}); stop it or use --name`);
    expect(second.count((e) => e.type === 'worker-started')).toBe(0);

    const other = await startHarness({ root, name: 'other', workers: [readyWorker()] });
    expect(other.socketPath).toBe(join(root, '.devsup/other.sock'));
    await readyGen(other, 'main', 1);
    const byName = JSON.parse((await devsup(['status', '--json', '--name', 'other'], root)).stdout) as StatusJson;
    expect(byName.pid).toBe(other.pid);
    expect((JSON.parse((await devsup(['status', '--json'], root)).stdout) as StatusJson).pid).toBe(first.pid);
  });

  it('puts the socket of a project with a long path in the runtime dir and still finds it', async () => {
    const base = tempDir();
    const root = join(base, 'a-rather-long-directory-name-for-a-project'.repeat(3));
    mkdirSync(join(root, 'sub'), { recursive: true });
    const runtime = join(tempDir(), 'rt');
    mkdirSync(runtime, { mode: 0o700 });
    const env = { XDG_RUNTIME_DIR: runtime };
    const h = await startHarness({ root, workers: [readyWorker()] }, env);
    expect(h.socketPath).toMatch(new RegExp(`^${runtime}/devsup/[0-9a-f]{16}\\.sock$`));
    expect(statSync(join(runtime, 'devsup')).mode & 0o777).toBe(0o700);
    expect(statSync(h.socketPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(root, '.devsup/default.sock-path'), 'utf8').trim()).toBe(h.socketPath);
    await readyGen(h, 'main', 1);
    const r = await devsup(['status', '--json'], join(root, 'sub'), { env });
    expect(r.code).toBe(0);
    expect((JSON.parse(r.stdout) as StatusJson).root).toBe(root);
    await h.stop();
    await waitFor(() => !existsSync(h.socketPath), 'runtime socket removed');
    expect(existsSync(join(root, '.devsup/default.sock-path'))).toBe(false);
  });
});
