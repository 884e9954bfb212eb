import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { isAlive } from '../helpers/procs.js';
import { waitFor } from '../helpers/wait.js';
import { writeApp } from './app-fixture.js';

/**
 * A child that starts a server as a daemon, `( setsid node server.mjs & )`, then runs app.mjs. The
 * server prints `DAEMON pid=<pid> gen=<generation>` once it holds the port, or `DAEMON FAILED
 * <code>` when it cannot (the port still held by the previous generation's daemon).
 */
function writeDaemonApp(root: string, port: number): void {
  writeApp(root, 'one', {
    'server.mjs': [
      "import { createServer } from 'node:net';",
      "process.on('SIGHUP', () => undefined);",
      'createServer().on("error", (e) => { console.log(`DAEMON FAILED ${e.code}`); process.exit(1); })',
      `  .listen(${port}, '127.0.0.1', () => console.log(\`DAEMON pid=\${process.pid} gen=\${process.env.DEVSUP_GENERATION}\`));`,
    ].join('\n'),
  });
}

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

function start(root: string, args: string[]): DevsupProcess {
  const p = new DevsupProcess(['run', '--json', ...args, '--', 'node', 'app.mjs'], { cwd: root });
  running.push(p);
  return p;
}

describe('devsup run: awkward trees', () => {
  it('stops a double-forked daemon with its tree: the next generation gets the port, Ctrl-C leaves nothing', async () => {
    const root = tempDir();
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    writeDaemonApp(root, port);
    const p = new DevsupProcess(['run', '--json', '--shell', '--', '( setsid node server.mjs & ) ; exec node app.mjs'], { cwd: root });
    running.push(p);
    const first = Number(/pid=(\d+)/.exec(await p.waitForLine(/^DAEMON pid=\d+ gen=1$/))![1]);
    writeFileSync(join(root, 'value.mjs'), "export const value = 'two';\n");
    await p.waitForLine(/^DAEMON (pid=\d+ gen=2|FAILED)/, 'the second daemon');
    expect(p.text()).not.toMatch(/DAEMON FAILED/);
    expect(isAlive(first)).toBe(false);
    const second = Number(/pid=(\d+) gen=2/.exec(p.text())![1]);
    expect(await p.stop('SIGINT')).toBe(130);
    await waitFor(() => !isAlive(second), 'the second daemon stopped with devsup');
  });

  it('a command that only starts a daemon and exits: each generation stops the previous daemon first', async () => {
    const root = tempDir();
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    writeDaemonApp(root, port);
    const p = new DevsupProcess(['run', '--json', '--shell', '--', '( setsid node server.mjs & )'], { cwd: root });
    running.push(p);
    await p.waitForLine(/^DAEMON pid=\d+ gen=1$/);
    for (const gen of [2, 3, 4]) {
      writeFileSync(join(root, 'value.mjs'), `export const value = '${gen}';\n`);
      await p.waitForLine(new RegExp(`^DAEMON (pid=\\d+ gen=${gen}|FAILED)`), `the daemon of generation ${gen}`);
      expect(p.text()).not.toMatch(/DAEMON FAILED/);
    }
    const last = Number(/pid=(\d+) gen=4/.exec(p.text())![1]);
    expect(await p.stop('SIGINT')).toBe(130);
    await waitFor(() => !isAlive(last), 'the last daemon stopped with devsup');
  });

  it('keeps working across a symlink loop in the tree', async () => {
    const root = tempDir();
    writeApp(root, 'one', { 'lib/a.mjs': 'export const a = 1;\n' });
    symlinkSync(root, join(root, 'lib', 'loop'));
    const p = start(root, []);
    await p.waitForLine(/READY .* gen=1 /);
    writeFileSync(join(root, 'lib/a.mjs'), 'export const a = 2;\n');
    const ev = await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'restart');
    expect((ev.restart as { changes: { modified: string[] } }).changes.modified).toEqual(['lib/a.mjs']);
  });

  it('notices a watched directory that is deleted and created again', async () => {
    const root = tempDir();
    const src = join(root, 'src');
    writeApp(root, 'one');
    writeTree(src, { 'x.mjs': 'export const x = 1;\n' });
    const p = start(root, ['--watch', 'src']);
    await p.waitForLine(/READY .* gen=1 /);
    rmSync(src, { recursive: true });
    await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 2, 'restart for the deletion');
    mkdirSync(src);
    writeFileSync(join(src, 'x.mjs'), 'export const x = 2;\n');
    const ev = await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 3, 'restart after it came back', 15_000);
    expect((ev.restart as { changes: { added: string[] } }).changes.added).toEqual(['src/x.mjs']);
    writeFileSync(join(src, 'x.mjs'), 'export const x = 3;\n');
    await p.waitForEvent((e) => e.type === 'worker-started' && e.generation === 4, 'later edits still seen');
  });
});
