import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DevsupEvent } from '../../src/core/events.js';
import { readChildren, recordChildren } from '../../src/control/children.js';
import { childKeeper, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const kids = childKeeper();
const grandchildren: number[] = [];
afterEach(async () => {
  for (const pid of grandchildren.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await kids.killAll();
});

/** An API that only lets the test send events; the recorder is all that listens. */
function fakeApi(): { api: never; send(e: DevsupEvent): void } {
  let listener: ((e: DevsupEvent) => void) | undefined;
  const api = { subscribe: (l: (e: DevsupEvent) => void) => ((listener = l), () => (listener = undefined)) };
  return { api: api as never, send: (e) => listener?.(e) };
}

/** A child that forks a grandchild as it boots and prints the grandchild's pid. */
async function bootingTree(): Promise<{ pid: number; grandchild: number }> {
  const code = `const g = require('child_process').spawn('sleep', ['30'], { stdio: 'ignore' }); console.log(g.pid); setInterval(() => {}, 1e9);`;
  const c = kids.keep(spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] }));
  const line = await new Promise<string>((resolve) => c.stdout.once('data', (d) => resolve(String(d))));
  const grandchild = Number(line.trim());
  trackPid(grandchild);
  grandchildren.push(grandchild);
  return { pid: c.pid!, grandchild };
}

const started = (pid: number): DevsupEvent => ({
  type: 'worker-started',
  worker: 'a',
  generation: 1,
  pid,
  codeId: 'c0',
  startedAt: new Date().toISOString(),
  spawnMs: 0,
  restart: { reason: 'initial' },
});

describe('the children record after a start', () => {
  it('names the root at once and what it forked while booting after its first look, without waiting for a refresh', async () => {
    const root = tempDir();
    const { api, send } = fakeApi();
    // No periodic refresh: only the look after the start can find the grandchild.
    const rec = recordChildren(api, root, 'default', { refreshMs: 0, firstLookMs: 300 });
    try {
      const { pid, grandchild } = await bootingTree();
      send(started(pid));
      await rec.idle();
      const first = await readChildren(root, 'default');
      expect(first?.workers.a?.root.pid).toBe(pid);
      await waitFor(async () => (await readChildren(root, 'default'))?.workers.a?.tree.some((id) => id.pid === grandchild), 'the grandchild recorded');
    } finally {
      await rec.close();
    }
  });

  it('writes nothing once closed, even when a first look was still due', async () => {
    const root = tempDir();
    const { api, send } = fakeApi();
    const rec = recordChildren(api, root, 'default', { refreshMs: 0, firstLookMs: 300 });
    const { pid } = await bootingTree();
    send(started(pid));
    await rec.close();
    const file = join(root, '.devsup', 'default.children.json');
    expect(existsSync(file)).toBe(true);
    rmSync(file);
    // Past the moment the first look was due: nothing may bring the record back.
    await new Promise((r) => setTimeout(r, 800));
    expect(existsSync(file)).toBe(false);
  });
});
