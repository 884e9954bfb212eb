import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';
import { fetchValue } from './apps.js';
import { Cli, devsup, freePort, startHarness, stopHarnesses, type Harness } from './rig.js';

afterEach(stopHarnesses);
afterAll(removeTempDirs);

/** More files than the smallest tree worth starting before its first look. */
const FILES = 2100;
/** Older than the margin given to a ctime for the kernel's coarse clock. */
const AGE_MS = 250;

const APP = [
  "import { createServer } from 'node:http';",
  "const { value } = await import('./value.mjs');",
  "process.on('SIGTERM', () => process.exit(0));",
  'createServer((req, res) => res.end(value)).listen(Number(process.env.PORT), "127.0.0.1", () => {',
  '  console.log(`READY pid=${process.pid} gen=${process.env.DEVSUP_GENERATION} code=[${process.env.DEVSUP_CODE_ID}] value=${value}`);',
  '});',
].join('\n');

/** A big tree with an HTTP service and no saved index; its first look waits for `gate` to exist. */
async function fresh(): Promise<{ root: string; gate: string; port: number; h: Harness }> {
  const root = tempDir();
  const files: Record<string, string> = { 'app.mjs': APP, 'value.mjs': "export const value = 'one';\n" };
  for (let i = 0; i < FILES; i++) files[`src/d${i % 30}/f${i}.js`] = `export const n = ${i};\n`;
  writeTree(root, files);
  await sleep(AGE_MS);
  const gate = join(tempDir(), 'open');
  const port = await freePort();
  const h = await startHarness({
    root,
    lookGate: gate,
    workers: [{ name: 'web', command: ['node', 'app.mjs'], env: { PORT: String(port) }, ready: { log: '^READY' }, ignore: ['.devsup'] }],
  });
  return { root, gate, port, h };
}

const open = (gate: string) => writeFileSync(gate, '');

describe('the first run in a checkout without a saved index', () => {
  it('serves before the files are read; status says checking and wait-fresh waits until the look confirms it', async () => {
    const { root, gate, port, h } = await fresh();
    const started = await h.waitEvent((e) => e.type === 'worker-started', 'the first start');
    expect(started).toMatchObject({ generation: 1, codeId: '', provisional: true });
    await h.waitEvent((e) => e.type === 'ready', 'ready while the look is held');
    expect(await fetchValue(port)).toBe('one');
    expect(h.out.text()).toContain('code=[] value=one');
    expect(h.count((e) => e.type === 'watching' || e.type === 'fresh')).toBe(0);

    const waiting = new Cli(['wait-fresh', '--timeout', '20s'], { cwd: root });
    const during = await devsup(['status', '--json'], root);
    expect(during.code).toBe(1);
    expect(JSON.parse(during.stdout).workers[0]).toMatchObject({ name: 'web', verdict: 'checking', codeId: null });
    expect((await devsup(['status'], root)).stdout).toMatch(/web\s.*checking/);
    // The look is still held: wait-fresh cannot have answered.
    expect(waiting.proc.exitCode).toBeNull();

    open(gate);
    const confirmed = await h.waitEvent((e) => e.type === 'fresh', 'the look confirms the start');
    expect(confirmed).toMatchObject({ generation: 1, codeId: expect.stringMatching(/^[0-9a-f]{10}$/) });
    expect((await waiting.exit).code).toBe(0);
    const after = JSON.parse((await devsup(['status', '--json'], root)).stdout).workers[0];
    expect(after).toMatchObject({ verdict: 'fresh', generation: 1, codeId: confirmed.codeId });
    expect(h.count((e) => e.type === 'worker-started')).toBe(1);
  }, 40_000);

  it('an edit made while the look is under way restarts the generation on the new code, never calling it fresh', async () => {
    const { root, gate, port, h } = await fresh();
    await h.waitEvent((e) => e.type === 'ready', 'ready while the look is held');
    writeFileSync(join(root, 'value.mjs'), "export const value = 'two';\n");
    const waiting = new Cli(['wait-fresh', '--timeout', '20s'], { cwd: root });
    open(gate);
    const second = await h.waitEvent((e) => e.type === 'worker-started' && e.generation === 2, 'the restart on the edit');
    expect(second.codeId).toMatch(/^[0-9a-f]{10}$/);
    expect(second.provisional).toBeUndefined();
    expect(h.events().find((e) => e.type === 'stale' && e.generation === 1)).toMatchObject({ files: expect.arrayContaining(['value.mjs']) });
    expect((await waiting.exit).code).toBe(0);
    expect(await fetchValue(port)).toBe('two');
    expect(h.events().some((e) => e.type === 'fresh' && e.generation === 1)).toBe(false);
  }, 40_000);

  it('a file deleted while the look is under way restarts the generation', async () => {
    const { root, gate, h } = await fresh();
    await h.waitEvent((e) => e.type === 'ready', 'ready while the look is held');
    rmSync(join(root, 'src/d5/f5.js'));
    open(gate);
    await h.waitEvent((e) => e.type === 'worker-started' && e.generation === 2, 'the restart on the deletion');
    expect(h.events().some((e) => e.type === 'fresh' && e.generation === 1)).toBe(false);
    expect((await devsup(['wait-fresh', '--timeout', '20s'], root)).code).toBe(0);
  }, 40_000);
});
