import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseRunLine } from '../../src/history/record.js';
import { appendRun, historyPath, readRuns } from '../../src/history/store.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { compileHistory } from './compiled.js';

const childScript = fileURLToPath(new URL('./child.mjs', import.meta.url));
let compiled = '';

beforeAll(() => {
  compiled = compileHistory();
});

type Child = ResultPromise<{ reject: false; buffer: true }>;

/** Starts `count` children, waits until each has loaded the store, then releases them at once. */
async function startTogether(
  mode: string,
  stateDir: string,
  procs: number,
  count: number,
  extra: string[] = [],
): Promise<Child[]> {
  const children: Child[] = [];
  const out: string[] = [];
  for (let p = 0; p < procs; p++) {
    const c = execa(process.execPath, [childScript, compiled, mode, stateDir, `w${p}`, String(count), ...extra], {
      reject: false,
      buffer: true,
    });
    trackPid(c.pid);
    out[p] = '';
    c.stdout.on('data', (d: Buffer) => (out[p] += d.toString()));
    children.push(c);
  }
  await waitFor(() => out.every((o) => o.includes('ready')), 'every child to be ready', 15_000);
  for (const c of children) c.stdin.end('go\n');
  return children;
}

async function expectAllSucceeded(children: Child[]): Promise<void> {
  for (const r of await Promise.all(children)) {
    expect(r.stderr).toBe('');
    expect(r.exitCode).toBe(0);
  }
}

describe('appendRun across processes', () => {
  it('keeps 6 x 200 concurrent appends of >4 KiB lines whole, none lost', async () => {
    const stateDir = tempDir();
    await expectAllSucceeded(await startTogether('append', stateDir, 6, 200));

    const text = readFileSync(historyPath(stateDir), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines).toHaveLength(1200);
    const seen = new Set<string>();
    for (const line of lines) {
      expect(line.length).toBeGreaterThan(4096);
      const rec = parseRunLine(line);
      expect(rec, `a whole record per line, got ${line.slice(0, 80)}...`).not.toBeNull();
      // Each record's own fields agree with each other, which an interleaved line could not do.
      expect(rec!.codeId).toBe(`${rec!.worker}:${rec!.generation}`);
      expect(rec!.changedFiles.every((f) => f.includes(`${rec!.worker}-gen-${rec!.generation}-`))).toBe(true);
      seen.add(rec!.codeId);
    }
    expect(seen.size).toBe(1200);

    const runs = await readRuns(stateDir);
    expect(runs).toHaveLength(1200);
    // Each writer appends in order, so its newest-first records count down.
    const gens = (await readRuns(stateDir, { worker: 'w3' })).map((r) => r.generation);
    expect(gens).toEqual(Array.from({ length: 200 }, (_, i) => 199 - i));
  });

  it('cuts the history back while 4 processes append, keeping whole lines and the newest of each writer', async () => {
    const stateDir = tempDir();
    // Records are about 6 KiB, so the file is cut back about every 16 appends.
    const maxBytes = 100_000;
    await expectAllSucceeded(await startTogether('append', stateDir, 4, 100, [String(maxBytes)]));

    const text = readFileSync(historyPath(stateDir), 'utf8');
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(maxBytes);
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n');
    expect(lines.length).toBeGreaterThan(4);
    for (const line of lines) {
      const rec = parseRunLine(line);
      expect(rec, `a whole record per line, got ${line.slice(0, 80)}...`).not.toBeNull();
      expect(rec!.codeId).toBe(`${rec!.worker}:${rec!.generation}`);
    }
    // What a cut drops is the oldest: a writer's kept records are its newest, without gaps.
    const all = await readRuns(stateDir);
    expect(all).toHaveLength(lines.length);
    for (const w of new Set(all.map((r) => r.worker))) {
      const gens = all.filter((r) => r.worker === w).map((r) => r.generation);
      expect(gens).toEqual(Array.from({ length: gens.length }, (_, i) => 99 - i));
    }
    // The newest record overall is some writer's last.
    expect(all[0]!.generation).toBe(99);
  });

  it('the lock excludes other processes: 6 x 40 read-sleep-write increments all survive', async () => {
    const stateDir = tempDir();
    writeFileSync(join(stateDir, 'counter'), '0');
    await expectAllSucceeded(await startTogether('counter', stateDir, 6, 40));
    expect(readFileSync(join(stateDir, 'counter'), 'utf8')).toBe('240');
  });

  it('control: the same increments without the lock lose updates, so the test above can fail', async () => {
    const stateDir = tempDir();
    writeFileSync(join(stateDir, 'counter'), '0');
    await expectAllSucceeded(await startTogether('counter-nolock', stateDir, 6, 40));
    expect(Number(readFileSync(join(stateDir, 'counter'), 'utf8'))).toBeLessThan(240);
  });

  it('takes over the lock of a holder that was SIGKILLed while holding it', async () => {
    const stateDir = tempDir();
    const [holder] = await startTogether('hold', stateDir, 1, 0);
    await waitFor(() => readLock(stateDir).startsWith(`${holder!.pid} `), 'the child to hold the lock');
    holder!.kill('SIGKILL');
    const r = await holder!;
    expect(r.signal).toBe('SIGKILL');
    expect(readLock(stateDir)).not.toBe('');

    const t0 = Date.now();
    await appendRun(stateDir, record(1), { maxWaitMs: 5_000 });
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect((await readRuns(stateDir)).map((x) => x.generation)).toEqual([1]);
    expect(readLock(stateDir)).toBe('');
  });
});

function readLock(stateDir: string): string {
  try {
    return readFileSync(`${historyPath(stateDir)}.lock`, 'utf8');
  } catch {
    return '';
  }
}

function record(generation: number) {
  return {
    v: 1 as const,
    worker: 'w',
    generation,
    codeId: 'c',
    changedFiles: [],
    startedAt: new Date().toISOString(),
    durationMs: 1,
    exitCode: 0,
    signal: null,
    result: 'passed' as const,
  };
}
