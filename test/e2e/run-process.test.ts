import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { isAlive } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { writeApp } from './app-fixture.js';

const STUBBORN = fileURLToPath(new URL('../fixtures/stubborn.mjs', import.meta.url));

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

function start(root: string, args: string[]): DevsupProcess {
  const p = new DevsupProcess(['run', '--json', ...args], { cwd: root });
  running.push(p);
  return p;
}

const pidsOf = (line: string) => [...line.matchAll(/(?:pid|grandchild)=(\d+)/g)].map((m) => Number(m[1]));

describe('devsup run: process trees', () => {
  it('kills a grandchild that ignores SIGTERM before the next generation starts', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'src.txt'), 'a');
    const p = start(root, ['--grace', '300', '--', 'node', STUBBORN]);
    const ready = await p.waitForLine(/^READY /);
    const oldTree = pidsOf(ready);
    expect(oldTree).toHaveLength(2);
    writeFileSync(join(root, 'src.txt'), 'b');
    const stopped = await p.waitForEvent((e) => e.type === 'stopped', 'old tree stopped');
    expect(stopped).toMatchObject({ how: 'killed', treeSize: 2, survivors: 0 });
    for (const pid of oldTree) expect(isAlive(pid), `old pid ${pid}`).toBe(false);
    await p.waitForCount(/^READY /, 2, 'second generation ready');
  });

  it('stops the whole tree on Ctrl-C and exits 130', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'src.txt'), 'a');
    const p = start(root, ['--grace', '300', '--', 'node', STUBBORN]);
    const tree = pidsOf(await p.waitForLine(/^READY /));
    expect(await p.stop('SIGINT')).toBe(130);
    for (const pid of tree) expect(isAlive(pid)).toBe(false);
  });

  it('exits 143 on SIGTERM with nothing left running', async () => {
    const root = tempDir();
    writeApp(root);
    const p = start(root, ['--', 'node', 'app.mjs']);
    const pid = pidsOf(await p.waitForLine(/^READY /))[0]!;
    expect(await p.stop('SIGTERM')).toBe(143);
    expect(isAlive(pid)).toBe(false);
  });

  it('reports a crash, waits, and restarts on the next change', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'crash.mjs'), "console.log('BOOM'); process.exit(3);\n");
    const p = start(root, ['--', 'node', 'crash.mjs']);
    const exited = await p.waitForEvent((e) => e.type === 'exited', 'crash reported');
    expect(exited).toMatchObject({ code: 3, signal: null, generation: 1 });
    await p.waitForEvent((e) => e.type === 'waiting', 'waiting for a change');
    writeFileSync(join(root, 'crash.mjs'), "console.log('FIXED'); setInterval(() => {}, 1000);\n");
    await p.waitForLine(/^FIXED$/);
    expect(p.events().filter((e) => e.type === 'worker-started')).toHaveLength(2);
  });

  it('--on-exit quit exits with the child code', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'x.mjs'), 'process.exit(7);\n');
    const p = start(root, ['--on-exit', 'quit', '--', 'node', 'x.mjs']);
    const res = await p.exit;
    expect(res.code).toBe(7);
  });

  it('--on-exit restart backs off between crashes', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'x.mjs'), "console.log('RUN ' + process.env.DEVSUP_GENERATION); process.exit(1);\n");
    const p = start(root, ['--on-exit', 'restart', '--', 'node', 'x.mjs']);
    await p.waitForLine(/^RUN 3$/, 'third run', 15_000);
    const delays = p.events().filter((e) => e.type === 'backoff').map((e) => e.delayMs as number);
    expect(delays.slice(0, 2)).toEqual([500, 1000]);
  });

  it('reports a command that is not found, then starts it once it exists', async () => {
    const root = tempDir();
    const p = start(root, ['--', './tool.sh']);
    const failed = await p.waitForEvent((e) => e.type === 'spawn-failed', 'spawn failure');
    expect(failed.message).toMatch(/not found.*tool\.sh|tool\.sh.*not found/);
    writeFileSync(join(root, 'tool.sh'), '#!/bin/sh\necho TOOL-RAN\nexec sleep 60\n');
    chmodSync(join(root, 'tool.sh'), 0o755);
    await p.waitForLine(/^TOOL-RAN$/);
    const started = await p.waitForEvent((e) => e.type === 'worker-started', 'started');
    expect(started.generation).toBe(2);
  });

  it('restarts by hand on "rs" and forwards other input to the child', async () => {
    const root = tempDir();
    writeFileSync(
      join(root, 'echo.mjs'),
      [
        "import { createInterface } from 'node:readline';",
        "process.on('SIGTERM', () => process.exit(0));",
        "console.log('READY gen=' + process.env.DEVSUP_GENERATION);",
        "createInterface({ input: process.stdin }).on('line', (l) => console.log('GOT ' + l));",
      ].join('\n'),
    );
    const p = start(root, ['--', 'node', 'echo.mjs']);
    await p.waitForLine(/^READY gen=1$/);
    p.write('hello\n');
    await p.waitForLine(/^GOT hello$/);
    p.write('rs\n');
    await p.waitForLine(/^READY gen=2$/);
    const ev = await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'manual restart');
    expect((ev.restart as { reason: string }).reason).toBe('manual');
  });

  it('stays responsive while the child floods its output', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'flood.mjs'), "process.on('SIGTERM', () => process.exit(0)); const s = 'x'.repeat(1000) + '\\n'; (function w() { while (process.stdout.write(s)); process.stdout.once('drain', w); })();\n");
    const p = start(root, ['--', 'node', 'flood.mjs']);
    await p.waitForEvent((e) => e.type === 'worker-started', 'started');
    await waitFor(() => p.total > 1000, 'flood output');
    const t0 = Date.now();
    writeFileSync(join(root, 'flood.mjs'), "console.log('CALM'); setInterval(() => {}, 1000);\n");
    await p.waitForLine(/^CALM$/, 'restart despite the flood', 10_000);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
