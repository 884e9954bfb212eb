import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { isAlive } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const STUBBORN = fileURLToPath(new URL('../fixtures/stubborn.mjs', import.meta.url));

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGKILL').catch(() => undefined);
  running = [];
});

describe('a second Ctrl-C', () => {
  it('kills the stopping tree at once with SIGKILL and names every process it killed', async () => {
    const p = new DevsupProcess(['run', '--grace', '1m', '--', 'node', STUBBORN], { cwd: tempDir() });
    running.push(p);
    const ready = await p.waitForLine(/READY pid=\d+ grandchild=\d+/);
    const [, child, grandchild] = /pid=(\d+) grandchild=(\d+)/.exec(ready)!.map(Number);
    p.proc.kill('SIGINT');
    // The first one is passed on politely and ignored by both (the grace period is a minute).
    await p.waitForLine(/stopping… \(Ctrl-C again to kill now\)/);
    await p.waitForLine(/IGNORED SIGTERM pid=/);
    const t0 = Date.now();
    p.proc.kill('SIGINT');
    const said = await p.waitForLine(/second interrupt: killed 2 processes with SIGKILL/);
    expect(said).toContain(`${child} node ${STUBBORN}`);
    expect(said).toContain(`${grandchild} `);
    // It ends by itself: a third signal sent now could land while node is already exiting, where
    // no handler runs any more, and would then be what ended it.
    const { code } = await Promise.race([
      p.exit,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`devsup did not exit\n${p.text()}`)), 10_000)),
    ]);
    expect(code).toBe(130);
    expect(Date.now() - t0).toBeLessThan(10_000);
    await waitFor(() => !isAlive(child!) && !isAlive(grandchild!), 'both processes gone');
  });
});
