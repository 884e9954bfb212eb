import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { freeFixedPort, httpGet } from '../helpers/ports.js';
import { isAlive, trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

function start(root: string, args: string[]): DevsupProcess {
  const p = new DevsupProcess(['run', ...args], { cwd: root });
  running.push(p);
  return p;
}

/** A server that reads value.mjs and listens 400 ms after it starts, like one that boots slowly. */
function writeSlowServer(root: string, port: number, value: string): void {
  writeTree(root, {
    'server.mjs': [
      "import http from 'node:http';",
      "import { value } from './value.mjs';",
      "process.on('SIGTERM', () => process.exit(0));",
      'setTimeout(() => {',
      `  http.createServer((q, r) => r.end(value + '\\n')).listen(${port}, '127.0.0.1', () => console.log('LISTENING pid=' + process.pid));`,
      '}, 400);',
    ].join('\n'),
    'value.mjs': `export const value = '${value}';\n`,
  });
}

const portsFile = (root: string) => join(root, '.devsup', 'default.main.ports.json');

describe('run without --ready', () => {
  it('after each edit, wait-fresh returns only once the new server listens, so the next request reaches the new code', async () => {
    const root = tempDir();
    const port = await freeFixedPort();
    writeSlowServer(root, port, 'v0');
    start(root, ['--', 'node', 'server.mjs']);
    // The first generation teaches the port.
    await waitFor(() => existsSync(portsFile(root)), 'the learned port to be kept');
    for (let i = 1; i <= 5; i++) {
      writeFileSync(join(root, 'value.mjs'), `export const value = 'v${i}';\n`);
      const w = await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000);
      expect(w.code, w.stderr).toBe(0);
      expect((await httpGet(port)).trim()).toBe(`v${i}`);
    }
    const s = await runDevsup(['status', '--json'], root);
    const main = (JSON.parse(s.stdout) as { workers: { listening: unknown }[] }).workers[0]!;
    expect(main.listening).toEqual({ tcp: [port], unix: [] });
    expect((await runDevsup(['status'], root)).stdout).toMatch(new RegExp(`listening :${port}`));
  });

  it('knows the ports a previous run learned from its first start', async () => {
    const root = tempDir();
    const port = await freeFixedPort();
    writeSlowServer(root, port, 'first');
    const first = start(root, ['--', 'node', 'server.mjs']);
    await waitFor(() => existsSync(portsFile(root)), 'the learned port to be kept');
    await first.stop('SIGTERM');
    const second = start(root, ['--json', '--', 'node', 'server.mjs']);
    await second.waitForEvent((e) => e.type === 'worker-started', 'the first start of the second run');
    const w = await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000);
    expect(w.code, w.stderr).toBe(0);
    expect((await httpGet(port)).trim()).toBe('first');
    const ready = await second.waitForEvent((e) => e.type === 'ready', 'ready');
    expect(ready).toMatchObject({ generation: 1, how: 'ports', listening: { tcp: [port], unix: [] } });
  });

  it('names the leftover holding the port when the child fails with EADDRINUSE', async () => {
    const root = tempDir();
    const port = await freeFixedPort();
    writeSlowServer(root, port, 'new');
    writeTree(root, {
      'old.mjs': `import http from 'node:http';\nhttp.createServer((q, r) => r.end('old\\n')).listen(${port}, '127.0.0.1', () => console.log('up'));\n`,
    });
    // A daemon as a crashed supervisor's child leaves it: forked twice, carrying devsup's environment.
    const sh = spawn('sh', ['-c', 'node old.mjs >/dev/null 2>&1 & echo $!'], {
      cwd: root,
      env: { ...process.env, DEVSUP: '1', DEVSUP_GENERATION: '4', DEVSUP_CODE_ID: 'deadbeef00' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    sh.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    const holder = Number(await waitFor(() => /^(\d+)\n/.exec(out)?.[1], 'the holder pid'));
    trackPid(holder);
    try {
      await waitFor(() => httpGet(port).then((t) => t === 'old\n'), 'the old server to answer');
      const p = start(root, ['--json', '--', 'node', 'server.mjs']);
      const e = await p.waitForEvent((x) => x.type === 'port-taken', 'the holder named');
      expect(e).toMatchObject({
        port,
        holders: [{ pid: holder, inProject: true, stale: false, devsup: { generation: 4, codeId: 'deadbeef00' }, stop: `kill ${holder}` }],
      });
      expect((e.holders as { command: string }[])[0]!.command).toMatch(/node old\.mjs$/);
    } finally {
      process.kill(holder, 'SIGKILL');
      await waitFor(() => !isAlive(holder), 'the holder to die');
    }
  });

  it('names the holder from the learned port when the output is not read (plain run)', async () => {
    const root = tempDir();
    const port = await freeFixedPort();
    writeSlowServer(root, port, 'new');
    writeTree(root, {
      '.devsup/default.main.ports.json': JSON.stringify({ v: 1, command: JSON.stringify(['node', 'server.mjs']), tcp: [port], unix: [] }),
    });
    const old = spawn(process.execPath, ['-e', `require('http').createServer(() => {}).listen(${port}, '127.0.0.1', () => console.log('up'))`], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    trackPid(old.pid);
    try {
      await new Promise((r) => old.stdout!.once('data', r));
      const p = start(root, ['--', 'node', 'server.mjs']);
      const line = await p.waitForLine(/port \d+ is taken/, 'the holder named');
      expect(line).toContain(`port ${port} is taken by pid ${old.pid}, started `);
      expect(line).toContain('not a process of this project');
      expect(line).toContain(`stop it with: kill ${old.pid} · ${process.execPath} -e `);
    } finally {
      old.kill('SIGKILL');
      await waitFor(() => !isAlive(old.pid!), 'the old server to die');
    }
  });
});

describe('what run watches', () => {
  it('watches the file the command runs even in an ignored directory, and restarts on its edit', async () => {
    const root = tempDir();
    writeTree(root, {
      'dist/server.js': "process.on('SIGTERM', () => process.exit(0));\nconsole.log('READY value=one');\nsetInterval(() => {}, 1000);\n",
    });
    const p = start(root, ['--ready', '^READY', '--', 'node', 'dist/server.js']);
    await p.waitForLine(/note: watching dist\/server\.js although dist\/ is ignored by default/);
    await p.waitForLine(/watching 1 file/);
    await p.waitForLine(/READY value=one/);
    writeFileSync(join(root, 'dist/server.js'), "process.on('SIGTERM', () => process.exit(0));\nconsole.log('READY value=two');\nsetInterval(() => {}, 1000);\n");
    const w = await runDevsup(['wait-fresh', '--timeout', '20s'], root, 30_000);
    expect(w.code, w.stderr).toBe(0);
    await p.waitForLine(/READY value=two/);
  });

  it('warns when it watches no file, naming the rule and the flag', async () => {
    const root = tempDir();
    writeTree(root, { 'build/app.py': 'print(1)\n' });
    const p = start(root, ['--', 'node', '-e', 'setTimeout(() => {}, 30000)']);
    const line = await p.waitForLine(/warning: watching no files/);
    expect(line).toContain('the only file under . is left out because build/ is ignored by default');
    expect(line).toContain('--watch build');
    const other = tempDir();
    writeTree(other, { 'a.py': 'print(1)\n', 'b.py': 'print(2)\n' });
    const q = start(other, ['-e', 'ts', '--', 'node', '-e', 'setTimeout(() => {}, 30000)']);
    const line2 = await q.waitForLine(/warning: watching no files/);
    expect(line2).toContain('all 2 files under . are left out because only files ending in .ts are watched; widen --ext');
  });
});
