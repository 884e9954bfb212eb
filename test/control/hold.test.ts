import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { childrenOf, isAlive as pidAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { readyWorker, writePairApp } from './apps.js';
import { Cli, devsup, sleep, startHarness, stopHarnesses, type Ev, type Harness } from './rig.js';

afterEach(stopHarnesses);

/** Longer than settling plus a restart: without a hold, the first write alone is loaded. */
const GAP_MS = 800;
const QUIET_PROOF_MS = 600;

/** Rewrites a.mjs, pauses, then b.mjs: in between the project is inconsistent. */
function writeRewriter(): string {
  const file = join(tempDir(), 'rewrite.mjs');
  writeFileSync(
    file,
    [
      "import { writeFileSync } from 'node:fs';",
      'const [root, value] = process.argv.slice(2);',
      "writeFileSync(`${root}/a.mjs`, `export const a = '${value}';\\n`);",
      `await new Promise((r) => setTimeout(r, ${GAP_MS}));`,
      "writeFileSync(`${root}/b.mjs`, `export const b = '${value}';\\n`);",
      "console.log('REWROTE ' + value);",
    ].join('\n'),
  );
  return file;
}

const loads = (h: Harness): { a: string; b: string }[] =>
  h
    .events()
    .filter((e) => e.type === 'output')
    .map((e) => /^READY .* a=(\S+) b=(\S+)$/.exec(String(e.line)))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ a: m[1]!, b: m[2]! }));

const after = (h: Harness, pred: (e: Ev) => boolean): Ev[] => {
  const all = h.events();
  const i = all.findIndex(pred);
  return i < 0 ? [] : all.slice(i + 1);
};

describe('devsup hold', () => {
  it('keeps a slow two-step rewrite from being loaded half-written, then restarts exactly once', async () => {
    const root = tempDir();
    writePairApp(root, 'v1');
    const rewrite = writeRewriter();
    const h = await startHarness({ root, workers: [{ name: 'app', command: ['node', 'app.mjs'], ready: { log: '^READY' } }] });
    await h.waitEvent((e) => e.type === 'ready', 'first start');

    // Without a hold the half-written state is loaded: this is what the hold prevents.
    const bare = spawnSync(process.execPath, [rewrite, root, 'v2'], { encoding: 'utf8' });
    trackPid(bare.pid);
    expect(bare.stdout.trim()).toBe('REWROTE v2');
    await waitFor(() => loads(h).some((l) => l.a === 'v2' && l.b === 'v2'), 'v2 loaded');
    expect(loads(h)).toContainEqual({ a: 'v2', b: 'v1' });

    const startsBefore = h.count((e) => e.type === 'worker-starting');
    const r = await devsup(['hold', '--', 'node', rewrite, root, 'v3'], root);
    expect(r).toMatchObject({ code: 0, stdout: 'REWROTE v3' });
    await waitFor(() => loads(h).some((l) => l.a === 'v3'), 'v3 loaded');
    await sleep(QUIET_PROOF_MS);

    const v3 = loads(h).filter((l) => l.a === 'v3' || l.b === 'v3');
    expect(v3).toEqual([{ a: 'v3', b: 'v3' }]);
    expect(h.count((e) => e.type === 'worker-starting')).toBe(startsBefore + 1);
    // Nothing started while held; the one restart came after the release.
    const held = after(h, (e) => e.type === 'hold');
    const releasedAt = held.findIndex((e) => e.type === 'release');
    expect(releasedAt).toBeGreaterThanOrEqual(0);
    expect(held.slice(0, releasedAt).filter((e) => e.type === 'worker-starting')).toEqual([]);
    expect(held.find((e) => e.type === 'hold')).toBeUndefined();
    expect(h.events().find((e) => e.type === 'hold')).toMatchObject({ holder: expect.stringMatching(/^devsup hold \(pid \d+\): node .*rewrite\.mjs/), holds: 1 });
  });

  it('makes a wait-fresh asked during a hold wait for the release, then for the finished rewrite', async () => {
    const root = tempDir();
    writePairApp(root, 'v1');
    const rewrite = writeRewriter();
    const h = await startHarness({ root, workers: [{ name: 'app', command: ['node', 'app.mjs'], ready: { log: '^READY' } }] });
    await h.waitEvent((e) => e.type === 'ready', 'first start');
    const holder = new Cli(['hold', '--', 'node', rewrite, root, 'v2'], { cwd: root });
    await h.waitEvent((e) => e.type === 'hold', 'hold taken');
    await waitFor(() => readFileSync(join(root, 'a.mjs'), 'utf8').includes('v2'), 'first half written');

    const early = await devsup(['wait-fresh', '--timeout', '200ms'], root);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/still waiting for:\n {2}the release of the hold by devsup hold \(pid \d+\): node /);

    const r = await devsup(['wait-fresh', '--timeout', '15s'], root);
    expect(r.code, r.stderr).toBe(0);
    expect((await holder.exit).code).toBe(0);
    await waitFor(() => loads(h).some((l) => l.a === 'v2'), 'v2 loaded');
    expect(loads(h)).toEqual([
      { a: 'v1', b: 'v1' },
      { a: 'v2', b: 'v2' },
    ]);
  });

  it("exits with the command's code and releases", async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker()] });
    expect((await devsup(['hold', '--', 'node', '-e', 'process.exit(7)'], root)).code).toBe(7);
    expect((await devsup(['hold', '--', 'no-such-command-devsup'], root)).code).toBe(127);
    await h.waitEvent((e) => e.type === 'release' && e.holds === 0, 'released');
    expect(h.count((e) => e.type === 'hold')).toBe(2);
    expect(h.count((e) => e.type === 'release')).toBe(2);
  });

  it('is released when the holding client dies', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker()] });
    await h.waitEvent((e) => e.type === 'ready', 'first start');
    const holder = new Cli(['hold', '--', 'node', '-e', 'setInterval(() => {}, 1000)'], { cwd: root });
    await h.waitEvent((e) => e.type === 'hold', 'hold taken');
    const command = await waitFor(() => childrenOf(holder.proc.pid!)[0], 'the held command');
    trackPid(command);
    const status = JSON.parse((await devsup(['status', '--json'], root)).stdout) as { holds: string[] };
    expect(status.holds).toEqual([expect.stringMatching(new RegExp(`^devsup hold \\(pid ${holder.proc.pid}\\)`))]);

    writeFileSync(join(root, 'edit.txt'), 'x\n');
    await sleep(QUIET_PROOF_MS);
    expect(h.count((e) => e.type === 'worker-starting')).toBe(1);

    holder.proc.kill('SIGKILL');
    await h.waitEvent((e) => e.type === 'release' && e.holds === 0, 'hold released by the disconnect');
    await h.waitEvent((e) => e.type === 'ready' && e.generation === 2, 'the held change restarts once released');

    process.kill(command, 'SIGKILL');
    await waitFor(() => !pidAlive(command), 'orphaned command gone');
  });
});
