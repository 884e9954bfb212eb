import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';

afterAll(removeTempDirs);

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

type Ev = Record<string, unknown> & { type: string };

/** More files than the smallest tree that starts early (EARLY_START_MIN_FILES). */
const FILES = 2100;
/** States are saved only once their ctime is older than the racy window (200 ms). */
const AGE_MS = 250;

const SERVICE = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);\nconsole.log(`UP gen=${process.env.DEVSUP_GENERATION} code=${process.env.DEVSUP_CODE_ID} pid=${process.pid}`);\n";
const ONE_SHOT = "console.log(`RAN gen=${process.env.DEVSUP_GENERATION} code=${process.env.DEVSUP_CODE_ID}`);\n";

async function bigTree(app: string): Promise<string> {
  const root = tempDir();
  const files: Record<string, string> = { 'app.mjs': app };
  for (let i = 0; i < FILES; i++) files[`src/d${i % 30}/f${i}.js`] = `export const n = ${i};\n`;
  writeTree(root, files);
  await sleep(AGE_MS);
  return root;
}

function devsup(root: string): DevsupProcess {
  const p = new DevsupProcess(['run', '--json', '--', 'node', 'app.mjs'], { cwd: root });
  running.push(p);
  return p;
}

/** One run that looks at the whole tree and saves its index on the way out; its code id. */
async function firstRun(root: string, big = true): Promise<string> {
  const p = devsup(root);
  // Without an index a big tree starts before any file is read, its code id known once they are.
  const started = await p.waitForEvent((e) => e.type === 'worker-started', 'the first start');
  if (!big) {
    expect(started.provisional).toBeUndefined();
    await p.waitForEvent((e) => e.type === 'ready', 'ready');
    expect(await p.stop('SIGINT')).toBe(130);
    return started.codeId as string;
  }
  expect(started).toMatchObject({ provisional: true, codeId: '' });
  const fresh = await p.waitForEvent((e) => e.type === 'fresh', 'the first look confirms the start');
  // A one-shot command is never ready (it does not live to listen); its finished run says it ran.
  await p.waitForEvent((e) => e.type === 'ready' || e.type === 'task-finished', 'ready, or the run finished');
  expect(await p.stop('SIGINT')).toBe(130);
  expect(existsSync(join(root, '.devsup', 'index'))).toBe(true);
  return fresh.codeId as string;
}

const types = (evs: Ev[]) => evs.map((e) => e.type);

describe('an early start on the tree the previous run saved', () => {
  it('starts before the files are looked at, with the saved code id, and confirms it', async () => {
    const root = await bigTree(SERVICE);
    const code = await firstRun(root);

    const p = devsup(root);
    await p.waitForEvent((e) => e.type === 'fresh', 'the saved tree confirmed');
    const line = await p.waitForLine(/^UP gen=1/);
    expect(line).toContain(`code=${code}`);
    const evs = p.events();
    const started = evs.find((e) => e.type === 'worker-started')!;
    expect(started).toMatchObject({ generation: 1, codeId: code, provisional: true });
    // Started before watching began; confirmed once the files were looked at.
    expect(types(evs).indexOf('worker-started')).toBeLessThan(types(evs).indexOf('watching'));
    expect(types(evs).indexOf('watching')).toBeLessThan(types(evs).indexOf('fresh'));
    expect(evs.filter((e) => e.type === 'worker-started')).toHaveLength(1);
    expect(evs.some((e) => e.type === 'stale')).toBe(false);
  });

  it('restarts on the real code when files changed while devsup was not running', async () => {
    const root = await bigTree(SERVICE);
    const saved = await firstRun(root);
    writeFileSync(join(root, 'src/d3/f3.js'), 'export const n = -3;\n');
    rmSync(join(root, 'src/d4/f4.js'));
    writeFileSync(join(root, 'src/d5/new.js'), 'export const added = true;\n');

    const p = devsup(root);
    const second = await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'the restart on the real code');
    const evs = p.events();
    expect(evs.find((e) => e.type === 'worker-started' && e.generation === 1)).toMatchObject({ codeId: saved, provisional: true });
    const stale = evs.find((e) => e.type === 'stale')!;
    expect((stale.files as string[]).sort()).toEqual(['src/d3/f3.js', 'src/d4/f4.js', 'src/d5/new.js']);
    expect(second.codeId).not.toBe(saved);
    expect(second.provisional).toBeUndefined();
    expect(second.restart).toMatchObject({ reason: 'change', changes: { added: ['src/d5/new.js'], modified: ['src/d3/f3.js'], removed: ['src/d4/f4.js'] } });
    expect(await p.waitForLine(/^UP gen=2/)).toContain(`code=${second.codeId as string}`);
    expect(evs.some((e) => e.type === 'fresh')).toBe(false);
    await sleep(AGE_MS);
    expect(await p.stop('SIGINT')).toBe(130);

    // The index saved on the way out vouches for the real code: the next run starts on it and keeps it.
    const q = devsup(root);
    await q.waitForEvent((e) => e.type === 'fresh', 'the updated index confirmed');
    expect(q.events().find((e) => e.type === 'worker-started')).toMatchObject({ codeId: second.codeId, provisional: true });
  });

  it('files the result of a run that ended early under the code it ran, once the files are checked', async () => {
    const root = await bigTree(ONE_SHOT);
    const code = await firstRun(root);

    const same = devsup(root);
    const done = await same.waitForEvent((e) => e.type === 'task-finished', 'the run filed');
    expect(done).toMatchObject({ generation: 1, result: 'passed' });
    const evs = same.events();
    expect(types(evs).indexOf('fresh')).toBeLessThan(types(evs).indexOf('task-finished'));
    expect(evs.find((e) => e.type === 'worker-started')).toMatchObject({ codeId: code, provisional: true });
    expect(await same.stop('SIGINT')).toBe(130);

    writeFileSync(join(root, 'src/d7/f7.js'), 'export const n = -7;\n');
    const changed = devsup(root);
    const rerun = await changed.waitForEvent((e) => e.type === 'task-finished' && e.generation === 2, 'the run on the real code');
    expect(rerun.result).toBe('passed');
    // Whatever generation 1 did, its result is not filed under a code id that was not its code's.
    const first = changed.events().filter((e) => e.type === 'task-finished' && e.generation === 1);
    expect(first.every((e) => e.result === 'cancelled')).toBe(true);
  });

  it('restarts with the caches cleared when the search after the start finds some', async () => {
    const root = await bigTree(SERVICE);
    await firstRun(root);
    writeFileSync(join(root, 'build.tsbuildinfo'), '{}');

    const p = devsup(root);
    const second = await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'the restart after the cache search');
    expect(second.restart).toMatchObject({ reason: 'caches', cleared: { count: 1 } });
    const evs = p.events();
    expect(evs.find((e) => e.type === 'worker-started' && e.generation === 1)).toMatchObject({ provisional: true });
    expect(evs.find((e) => e.type === 'stale')).toMatchObject({ generation: 1, files: ['build.tsbuildinfo'] });
    expect(existsSync(join(root, 'build.tsbuildinfo'))).toBe(false);
  });

  it('a damaged index is discarded with a warning and the start on it resolves: restarted on the real code', async () => {
    const root = await bigTree(SERVICE);
    const code = await firstRun(root);
    const dir = join(root, '.devsup', 'index');
    const file = join(dir, readdirSync(dir).find((n) => !n.includes('.'))!);
    const good = readFileSync(file, 'utf8');
    const wrong = code.startsWith('0') ? `1${code.slice(1)}` : `0${code.slice(1)}`;
    const damages = [
      good.replace(code, wrong),
      good.replace(/^(src\/d3\/f3\.js\t)(.)/m, (_, p: string, c: string) => p + (c === 'A' ? 'B' : 'A')),
    ];
    for (const damaged of damages) {
      writeFileSync(file, damaged);
      const p = devsup(root);
      await p.waitForEvent((e) => e.type === 'warning' && /index .* is damaged/.test(String(e.message)), 'the damage reported');
      const waited = await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000);
      expect(waited.code).toBe(0);
      expect((await runDevsup(['status'], root)).stdout).not.toMatch(/checking/);
      // Fresh means on the real code: restarted when the header lied, confirmed when only an entry was damaged.
      const starts = p.events().filter((e) => e.type === 'worker-started');
      expect(starts.at(-1)!.codeId).toBe(code);
      if (damaged.includes(wrong)) expect(starts.at(-1)).toMatchObject({ generation: 2, codeId: code });
      expect(await p.stop('SIGINT')).toBe(130);
    }
  });

  it('without an index, starts before any file is read with an empty code id, then knows it', async () => {
    const root = await bigTree(SERVICE);
    const p = devsup(root);
    expect(await p.waitForLine(/^UP gen=1/)).toMatch(/code= pid=/);
    const fresh = await p.waitForEvent((e) => e.type === 'fresh', 'the first look confirms the start');
    const status = JSON.parse((await runDevsup(['status', '--json'], root)).stdout);
    expect(status.workers[0]).toMatchObject({ verdict: 'fresh', generation: 1, codeId: fresh.codeId });
    const evs = p.events();
    expect(types(evs).indexOf('worker-started')).toBeLessThan(types(evs).indexOf('watching'));
    expect(evs.filter((e) => e.type === 'worker-started')).toHaveLength(1);
  });

  it('without an index, an edit right after the spawn restarts the generation on the new code', async () => {
    const root = await bigTree(SERVICE);
    const p = devsup(root);
    await p.waitForEvent((e) => e.type === 'worker-started', 'the first start');
    writeFileSync(join(root, 'src/d9/f9.js'), 'export const n = -9;\n');
    const second = await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'the restart on the edit');
    expect(second.codeId).toMatch(/^[0-9a-f]{10}$/);
    expect(p.events().find((e) => e.type === 'stale' && e.generation === 1)).toMatchObject({ files: ['src/d9/f9.js'] });
    expect(p.events().some((e) => e.type === 'fresh')).toBe(false);
    expect(await p.waitForLine(/^UP gen=2/)).toContain(`code=${second.codeId as string}`);
  });

  it('is not taken on a small tree, where looking first costs milliseconds', async () => {
    const root = tempDir();
    writeTree(root, { 'app.mjs': SERVICE, 'lib.js': 'export {};\n' });
    await sleep(AGE_MS);
    await firstRun(root, false);
    const p = devsup(root);
    await p.waitForLine(/^UP gen=1/);
    const evs = p.events();
    expect(types(evs).indexOf('watching')).toBeLessThan(types(evs).indexOf('worker-started'));
    expect(evs.find((e) => e.type === 'worker-started')!.provisional).toBeUndefined();
  });
});
