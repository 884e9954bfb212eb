import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTcpTable, parseUnixTable, portHolders, treeListeners, TreeSockets } from '../../src/process/listening.js';
import { childKeeper, isAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURE = new URL('../fixtures/slow-listen.mjs', import.meta.url).pathname;
const started = childKeeper();
afterEach(() => started.killAll());

/** Starts the fixture and resolves with the port it listens on and every pid it reports. */
async function listener(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; port: number; pids: number[] }> {
  const child = spawn(process.execPath, [FIXTURE, ...args], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  started.keep(child);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  const line = await waitFor(() => /LISTENING pid=(\d+) port=(\d+)/.exec(out), `the fixture to listen\n${out}`);
  const pids = [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  pids.forEach(trackPid);
  if (args[2]) await waitFor(() => out.includes('sock='), 'the unix socket');
  return { child, port: Number(line[2]), pids };
}

describe('TreeSockets, polled from the spawn on', () => {
  it('does not read the socket tables at every look while the tree only has the sockets it was given, and sees a server at once', async () => {
    // Its output goes through socket pairs, as a supervised child's does; it listens when told to.
    const code = `process.stdin.once('data', () => require('net').createServer().listen(0, '127.0.0.1', function () { console.log('PORT ' + this.address().port); })); setInterval(() => {}, 1e9);`;
    const child = started.keep(spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'pipe'] }));
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    const tree = new TreeSockets(child.pid!, { tablesEveryMs: 60_000, hotMs: 60_000 });
    for (let i = 0; i < 5; i++) expect(await tree.look()).toEqual({ tcp: [], unix: [] });
    expect(tree.tablesRead).toBe(1);
    child.stdin!.write('listen\n');
    const port = Number((await waitFor(() => /PORT (\d+)/.exec(out), 'the server'))[1]);
    await waitFor(async () => (await tree.look()).tcp.includes(port), 'the port seen');
  });
});

describe('treeListeners', () => {
  it('finds the TCP port and the unix socket a process listens on', async () => {
    const sock = join(tempDir(), 'app.sock');
    const { child, port } = await listener(['0', '0', sock]);
    const l = await treeListeners(child.pid!);
    expect(l).toEqual({ tcp: [port], unix: [sock] });
  });

  it('finds a port opened by a grandchild, not by the root', async () => {
    const { child, port, pids } = await listener(['0', '0', '', 'grandchild']);
    expect(pids[0]).not.toBe(child.pid);
    expect((await treeListeners(child.pid!)).tcp).toEqual([port]);
    process.kill(pids[0]!, 'SIGKILL');
    await waitFor(() => !isAlive(pids[0]!), 'the grandchild to die');
  });

  it('is empty for a process that listens on nothing, and for one that is gone', async () => {
    const idle = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    started.keep(idle);
    expect(await treeListeners(idle.pid!)).toEqual({ tcp: [], unix: [] });
    const gone = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((r) => gone.once('exit', r));
    expect(await treeListeners(gone.pid!)).toEqual({ tcp: [], unix: [] });
  });

  it('does not count a port another process holds', async () => {
    const { port } = await listener(['0', '0']);
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
    started.keep(other);
    const l = await treeListeners(other.pid!);
    expect(port).toBeGreaterThan(0);
    expect(l.tcp).toEqual([]);
  });
});

describe('portHolders', () => {
  it('names the process holding a port, and whether devsup started it', async () => {
    const { child, port } = await listener(['0', '0'], { DEVSUP: '1', DEVSUP_GENERATION: '7', DEVSUP_CODE_ID: 'abcdef0123' });
    const { holders } = await portHolders(port);
    expect(holders).toHaveLength(1);
    expect(holders[0]).toMatchObject({ pid: child.pid, argv: [process.execPath, FIXTURE, '0', '0'], devsup: { generation: 7, codeId: 'abcdef0123' } });
    expect(Date.parse(holders[0]!.startedAt)).toBeGreaterThan(Date.now() - 60_000);
  });

  it('finds nobody on a free port', async () => {
    const { child, port } = await listener(['0', '0']);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect((await portHolders(port)).holders).toEqual([]);
  });
});

describe('parsing /proc/net', () => {
  it('keeps only listening TCP sockets, IPv4 and IPv6', () => {
    const tcp = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:10E6 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:10E6 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 12346 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect(parseTcpTable(tcp)).toEqual([{ inode: '12345', tcp: 4326, uid: 1000 }]);
    const tcp6 = [
      '  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0',
    ].join('\n');
    expect(parseTcpTable(tcp6)).toEqual([{ inode: '999', tcp: 8080, uid: 0 }]);
  });

  it('keeps only unix sockets in listen state, with paths that contain spaces', () => {
    const unix = [
      'Num       RefCount Protocol Flags    Type St Inode Path',
      '0000000000000000: 00000002 00000000 00010000 0001 01 111 /tmp/my app.sock',
      '0000000000000000: 00000002 00000000 00000000 0001 03 112 /tmp/connected.sock',
      '0000000000000000: 00000002 00000000 00010000 0001 01 113 @abstract',
    ].join('\n');
    expect(parseUnixTable(unix)).toEqual([
      { inode: '111', unix: '/tmp/my app.sock' },
      { inode: '113', unix: '@abstract' },
    ]);
  });
});

describe('a busy machine', () => {
  it('finds a socket listed past the first page of /proc/net/unix', async () => {
    const { createServer } = await import('node:net');
    const dir = tempDir();
    // Enough listening sockets of our own that the table runs over a page, ours among the last.
    const servers = await Promise.all(
      Array.from({ length: 80 }, (_, i) => new Promise<import('node:net').Server>((resolve) => {
        const s = createServer();
        s.listen(join(dir, `filler-${i}.sock`), () => resolve(s));
      })),
    );
    try {
      const sock = join(dir, 'app.sock');
      const { child } = await listener(['0', '0', sock]);
      expect((await treeListeners(child.pid!)).unix).toEqual([sock]);
    } finally {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    }
  });
});

describe('a tree that changes while it is read', () => {
  it('is read without error while its children come and go, and still shows the port', async () => {
    // A parent that forks short-lived children as fast as it can, listening itself.
    const churn = spawn(
      process.execPath,
      ['-e', `const { spawn } = require('child_process'); require('net').createServer().listen(0, '127.0.0.1', function () { console.log('PORT ' + this.address().port); }); setInterval(() => spawn('sleep', ['0.03'], { stdio: 'ignore' }), 10);`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    started.keep(churn);
    let out = '';
    churn.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
    const own = Number((await waitFor(() => /PORT (\d+)/.exec(out), 'the churning parent to listen'))[1]);
    for (let i = 0; i < 40; i++) {
      const l = await treeListeners(churn.pid!);
      expect(l.tcp).toEqual([own]);
    }
  });
});
