import { appendFileSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { DevsupError } from '../../src/core/errors.js';
import { appendRun, historyPath, readRuns, type RunRecord } from '../../src/history/store.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';

function rec(worker: string, generation: number, extra: Partial<RunRecord> = {}): RunRecord {
  return {
    v: 1,
    worker,
    generation,
    codeId: `sha-${generation}`,
    changedFiles: [`src/${worker}.ts`],
    startedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, generation)).toISOString(),
    durationMs: 100 + generation,
    exitCode: 0,
    signal: null,
    result: 'passed',
    ...extra,
  };
}

const lockPath = (stateDir: string): string => `${historyPath(stateDir)}.lock`;

/** A pid that certainly belongs to no process: one we started and saw exit. */
async function deadPid(): Promise<number> {
  const child = execa(process.execPath, ['-e', '']);
  trackPid(child.pid);
  await child;
  return child.pid!;
}

describe('appendRun and readRuns', () => {
  it('reads back newest first, filtered by worker and limited', async () => {
    const stateDir = `${tempDir()}/not/yet/there`;
    expect(await readRuns(stateDir)).toEqual([]);
    const written = [rec('api', 1), rec('web', 2), rec('api', 3, { result: 'failed', exitCode: 1 }), rec('api', 4)];
    for (const r of written) await appendRun(stateDir, r);

    const runs = [1, 1, 2, 3];
    expect(await readRuns(stateDir)).toEqual(written.map((r, i) => ({ ...r, run: runs[i] })).reverse());
    expect((await readRuns(stateDir, { worker: 'api' })).map((r) => r.generation)).toEqual([4, 3, 1]);
    expect((await readRuns(stateDir, { worker: 'api', limit: 2 })).map((r) => r.generation)).toEqual([4, 3]);
    expect(await readRuns(stateDir, { limit: 0 })).toEqual([]);
    expect(await readRuns(stateDir, { worker: 'nobody' })).toEqual([]);
  });

  it('refuses a history that is a link, for reading as for writing, rather than reading "no runs"', async () => {
    const elsewhere = tempDir();
    const real = `${tempDir()}/.devsup`;
    await appendRun(real, rec('api', 1));
    const stateDir = `${elsewhere}/.devsup`;
    mkdirSync(stateDir);
    symlinkSync(historyPath(real), historyPath(stateDir));
    const err = await readRuns(stateDir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevsupError);
    expect((err as DevsupError).exitCode).toBe(73);
    expect((err as Error).message).toContain('is a symlink');
    await expect(appendRun(stateDir, rec('api', 2))).rejects.toThrow(/is a symlink/);
    // The file the link points to is untouched.
    expect((await readRuns(real)).map((r) => r.generation)).toEqual([1]);
  });

  it('cuts the history back to its newest whole records once it passes its size limit', async () => {
    const stateDir = tempDir();
    // Generations 11 to 21 all make records of the same length.
    const lineBytes = Buffer.byteLength(`${JSON.stringify(rec('api', 11, { run: 11 }))}\n`);
    const maxBytes = lineBytes * 10;
    for (let g = 11; g <= 20; g++) await appendRun(stateDir, rec('api', g, { run: g }), { maxBytes });
    // Exactly at the limit: nothing is dropped yet.
    expect((await readRuns(stateDir)).length).toBe(10);
    await appendRun(stateDir, rec('api', 21, { run: 21 }), { maxBytes });
    const kept = (await readRuns(stateDir)).map((r) => r.generation);
    expect(kept).toEqual([21, 20, 19, 18, 17]);
    const text = readFileSync(historyPath(stateDir), 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes / 2);
    expect(text.startsWith('{')).toBe(true);
    // A record bigger than half the limit is still kept, alone.
    const big = rec('api', 22, { run: 22, changedFiles: Array.from({ length: 50 }, (_, i) => `src/file-${i}.js`) });
    await appendRun(stateDir, big, { maxBytes });
    expect(await readRuns(stateDir)).toEqual([big]);
  });

  it('keeps optional fields and signals as written', async () => {
    const stateDir = tempDir();
    const r = rec('api', 1, { exitCode: null, signal: 'SIGTERM', result: 'cancelled', log: '/x/y.log' });
    await appendRun(stateDir, r);
    expect(await readRuns(stateDir)).toEqual([{ ...r, run: 1 }]);
  });

  it('numbers runs per worker across sessions, going on after records written before numbering', async () => {
    const stateDir = tempDir();
    mkdirSync(stateDir, { recursive: true });
    // Two unnumbered records of api from before, then a session whose generations start at 1 again.
    writeFileSync(historyPath(stateDir), `${JSON.stringify(rec('api', 1))}\n${JSON.stringify(rec('api', 2))}\n`);
    await appendRun(stateDir, rec('api', 1));
    await appendRun(stateDir, rec('web', 1));
    await appendRun(stateDir, rec('api', 2));
    // Another devsup session on the same project: generation 1 again, run numbers go on.
    await appendRun(stateDir, rec('api', 1));
    const runs = (await readRuns(stateDir)).map((r) => [r.worker, r.generation, r.run]);
    expect(runs).toEqual([
      ['api', 1, 5],
      ['api', 2, 4],
      ['web', 1, 1],
      ['api', 1, 3],
      ['api', 2, undefined],
      ['api', 1, undefined],
    ]);
  });

  it('never gives one run number twice when processes append at the same time', async () => {
    const stateDir = tempDir();
    await Promise.all(Array.from({ length: 12 }, (_, i) => appendRun(stateDir, rec('api', i + 1))));
    const runs = (await readRuns(stateDir)).map((r) => r.run!).sort((a, b) => a - b);
    expect(runs).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });

  it('skips a torn last line, and the next append is not glued onto it', async () => {
    const stateDir = tempDir();
    await appendRun(stateDir, rec('api', 1));
    await appendRun(stateDir, rec('api', 2));
    // What a crash halfway through writing a record leaves behind.
    const whole = `${JSON.stringify(rec('api', 3))}\n`;
    appendFileSync(historyPath(stateDir), whole.slice(0, whole.length >> 1));
    expect((await readRuns(stateDir)).map((r) => r.generation)).toEqual([2, 1]);

    await appendRun(stateDir, rec('api', 4));
    expect((await readRuns(stateDir)).map((r) => r.generation)).toEqual([4, 2, 1]);
    const lines = readFileSync(historyPath(stateDir), 'utf8').split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[4]).toBe('');
  });

  it('skips corrupt, foreign and future-version lines anywhere in the file', async () => {
    const stateDir = tempDir();
    mkdirSync(stateDir, { recursive: true });
    const bad = [
      'not json at all',
      '{"v":1,"worker":"api"',
      JSON.stringify({ ...rec('api', 9), v: 2 }),
      JSON.stringify({ ...rec('api', 9), result: 'maybe' }),
      JSON.stringify({ ...rec('api', 9), changedFiles: 'a.ts' }),
      JSON.stringify([rec('api', 9)]),
      '\u0000\u0000\u0000',
    ];
    writeFileSync(historyPath(stateDir), `${JSON.stringify(rec('api', 1))}\n${bad.join('\n')}\n\n${JSON.stringify(rec('api', 2))}\n`);
    expect((await readRuns(stateDir)).map((r) => r.generation)).toEqual([2, 1]);
  });

  it('refuses a record that readRuns would skip, and writes nothing', async () => {
    const stateDir = tempDir();
    const broken = { ...rec('api', 1), startedAt: 'yesterday' };
    await expect(appendRun(stateDir, broken)).rejects.toThrow(/startedAt/);
    await expect(appendRun(stateDir, { ...rec('api', 1), worker: '' })).rejects.toThrow(TypeError);
    expect(await readRuns(stateDir)).toEqual([]);
  });

  it('serialises many appends from one process', async () => {
    const stateDir = tempDir();
    await Promise.all(Array.from({ length: 40 }, (_, i) => appendRun(stateDir, rec('api', i))));
    const gens = (await readRuns(stateDir)).map((r) => r.generation).sort((a, b) => a - b);
    expect(gens).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });
});

describe('the history lock', () => {
  it('waits for a live holder only as long as allowed, then says who holds it', async () => {
    const stateDir = tempDir();
    mkdirSync(stateDir, { recursive: true });
    const mine = `${process.pid} ${hostname()} x\n`;
    writeFileSync(lockPath(stateDir), mine);
    const t0 = Date.now();
    const err = await appendRun(stateDir, rec('api', 1), { maxWaitMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevsupError);
    expect((err as DevsupError).code).toBe('lock-timeout');
    expect((err as Error).message).toContain(`pid ${process.pid}`);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(300);
    expect(Date.now() - t0).toBeLessThan(2_000);
    // Someone else's lock is left alone and nothing was written.
    expect(readFileSync(lockPath(stateDir), 'utf8')).toBe(mine);
    expect(await readRuns(stateDir)).toEqual([]);
  });

  it('does not break a lock whose holder has not written its pid yet', async () => {
    const stateDir = tempDir();
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(lockPath(stateDir), '');
    await expect(appendRun(stateDir, rec('api', 1), { maxWaitMs: 200 })).rejects.toThrow(/gave up/);
  });

  it('breaks a lock left by a process that no longer exists', async () => {
    const stateDir = tempDir();
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(lockPath(stateDir), `${await deadPid()} ${hostname()} x\n`);
    await appendRun(stateDir, rec('api', 1), { maxWaitMs: 2_000 });
    expect(await readRuns(stateDir)).toHaveLength(1);
  });

  it('breaks a lock older than staleMs even if its pid is alive (pid reuse, other host)', async () => {
    const stateDir = tempDir();
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(lockPath(stateDir), `${process.pid} elsewhere.example x\n`);
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockPath(stateDir), old, old);
    await appendRun(stateDir, rec('api', 1), { maxWaitMs: 2_000, staleMs: 30_000 });
    expect(await readRuns(stateDir)).toHaveLength(1);
  });

  it('treats a fresh lock from another host as held, whatever its pid', async () => {
    const stateDir = tempDir();
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(lockPath(stateDir), `${await deadPid()} elsewhere.example x\n`);
    await expect(appendRun(stateDir, rec('api', 1), { maxWaitMs: 200 })).rejects.toThrow(/on elsewhere\.example/);
  });
});
