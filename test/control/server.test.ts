import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectControl } from '../../src/control/client.js';
import { startControlServer, type ControlLimits, type ControlServer } from '../../src/control/server.js';
import { Bus } from '../../src/core/bus.js';
import { DevsupError } from '../../src/core/errors.js';
import type { SupervisorApi, SupervisorSnapshot } from '../../src/supervisor/api.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** Just enough of a supervisor to watch the server's side of things. */
function fakeApi(): SupervisorApi & { bus: Bus; holds: Map<number, string>; calls: string[] } {
  const bus = new Bus();
  const holds = new Map<number, string>();
  const calls: string[] = [];
  let next = 1;
  const snap = (): SupervisorSnapshot => ({ version: 't', pid: process.pid, root: '/', holds: [...holds.values()], workers: [] });
  return {
    bus,
    holds,
    calls,
    snapshot: snap,
    subscribe: (l) => bus.on(l),
    restart: async () => void calls.push('restart'),
    stop: async () => undefined,
    start: async () => undefined,
    writeInput: () => false,
    endInput: () => undefined,
    clearCaches: async () => ({ paths: [], bytes: 0 }),
    logs: () => [],
    hold: (holder) => {
      const id = next++;
      holds.set(id, holder);
      return () => void holds.delete(id);
    },
    waitFresh: () => new Promise(() => undefined),
    shutdown: async () => undefined,
  };
}

let servers: ControlServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function serve(api: SupervisorApi, root = tempDir(), limits?: Partial<ControlLimits>): Promise<{ server: ControlServer; root: string }> {
  const server = await startControlServer(api, { root, name: 'default', ...(limits ? { limits } : {}) });
  servers.push(server);
  return { server, root };
}

/** A raw client: what it was answered, and whether the server closed it. */
function rawClient(path: string) {
  const sock = connect(path);
  let text = '';
  let closed = false;
  sock.on('data', (d: Buffer) => (text += String(d)));
  sock.on('error', () => undefined);
  sock.on('close', () => (closed = true));
  const connected = new Promise<void>((r) => sock.once('connect', () => r()));
  return { sock, connected, text: () => text, closed: () => closed, codes: () => [...text.matchAll(/"code":"([a-z-]+)"/g)].map((m) => m[1]) };
}

describe('control server limits', () => {
  it('bounds the unfinished input of many clients sending big lines without a newline, and returns it when they leave', async () => {
    const budget = 4 * 1024 * 1024;
    const { server } = await serve(fakeApi(), tempDir(), { maxBufferedBytes: budget, idleLineMs: 60_000 });
    const clients = Array.from({ length: 24 }, () => rawClient(server.socketPath));
    await Promise.all(clients.map((c) => c.connected));
    const chunk = Buffer.alloc(512 * 1024, 'x');
    // 24 half-lines of 512 KiB, three times the budget; each stays under the 1 MiB line limit.
    await Promise.all(clients.map((c) => new Promise<void>((r) => c.sock.write(chunk, () => r()))));
    await waitFor(() => clients.filter((c) => c.closed()).length >= 24 - budget / chunk.length, 'clients past the budget closed');
    expect(server.usage().bufferedBytes).toBeLessThanOrEqual(budget);
    const refused = clients.filter((c) => c.codes().includes('busy'));
    expect(refused.length).toBeGreaterThanOrEqual(24 - budget / chunk.length);
    // Whoever holds a half-line is still served once it is finished.
    const kept = clients.find((c) => !c.closed())!;
    kept.sock.write('\n{"v":1,"id":7,"method":"snapshot"}\n');
    await waitFor(() => kept.text().includes('"id":7'), 'the kept client answered');
    for (const c of clients) c.sock.destroy();
    await waitFor(() => server.usage().connections === 0, 'every connection gone');
    expect(server.usage().bufferedBytes).toBe(0);
  });

  it('closes a connection whose unfinished line waits too long for its next byte', async () => {
    const { server } = await serve(fakeApi(), tempDir(), { idleLineMs: 300 });
    const c = rawClient(server.socketPath);
    await c.connected;
    c.sock.write('{"v":1,"id":1,"meth');
    await waitFor(() => server.usage().bufferedBytes > 0, 'half-line held');
    await waitFor(() => c.closed(), 'idle half-line dropped');
    expect(c.codes()).toEqual(['timeout']);
    expect(server.usage()).toEqual({ connections: 0, bufferedBytes: 0 });
    // A client that keeps sending its line in pieces, each within the timeout, is not cut off.
    const slow = rawClient(server.socketPath);
    await slow.connected;
    for (const piece of ['{"v":1,', '"id":2,', '"method":', '"snapshot"}']) {
      slow.sock.write(piece);
      await new Promise((r) => setTimeout(r, 150));
    }
    slow.sock.write('\n');
    await waitFor(() => slow.text().includes('"id":2,"ok":true'), 'the slow line answered');
    slow.sock.destroy();
  });

  it('refuses connections past the limit with an error, and serves again once some leave', async () => {
    const { server, root } = await serve(fakeApi(), tempDir(), { maxConnections: 5 });
    const clients = Array.from({ length: 8 }, () => rawClient(server.socketPath));
    await Promise.all(clients.map((c) => c.connected));
    await waitFor(() => clients.filter((c) => c.closed()).length === 3, 'three refused');
    expect(clients.filter((c) => c.codes().includes('busy'))).toHaveLength(3);
    expect(server.usage().connections).toBe(5);
    for (const c of clients) c.sock.destroy();
    await waitFor(() => server.usage().connections === 0, 'all gone');
    const again = await connectControl({ root });
    expect((await again.snapshot()).version).toBe('t');
    again.close();
  });
});

describe('control server in process', () => {
  it('cuts off a subscriber that stops reading once too much is queued, and keeps serving others', async () => {
    const api = fakeApi();
    const { server, root } = await serve(api);
    const deaf = connect(server.socketPath);
    deaf.on('error', () => undefined);
    deaf.pause();
    let closed = false;
    deaf.on('close', () => (closed = true));
    deaf.write('{"v":1,"id":1,"method":"subscribe"}\n');
    const listening = await connectControl({ root });
    const seen: unknown[] = [];
    void (async () => {
      for await (const e of listening.events()) seen.push(e);
    })();
    await waitFor(() => (api.bus.emit({ type: 'warning', message: 'hello' }), seen.length > 0), 'subscribed');
    const line = 'y'.repeat(1000);
    const total = 30_000;
    // Warnings, not output: output for a client that is behind is dropped instead (next test).
    for (let i = 0; i < total; i++) {
      api.bus.emit({ type: 'warning', worker: 'w', message: line });
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    await waitFor(() => seen.length > total, 'reading subscriber got everything');
    // Reading now, the deaf one finds its stream cut short.
    let got = 0;
    deaf.on('data', (d: Buffer) => (got += d.length));
    deaf.resume();
    await waitFor(() => closed, 'deaf subscriber cut off');
    expect(got).toBeLessThan(total * 1000);
    expect((await listening.snapshot()).version).toBe('t');
    listening.close();
  });

  it('drops output for a subscriber that is behind, keeps it subscribed, and counts what it missed once it reads', async () => {
    const api = fakeApi();
    const { server, root } = await serve(api);
    const slow = connect(server.socketPath);
    slow.on('error', () => undefined);
    slow.pause();
    let closed = false;
    slow.on('close', () => (closed = true));
    slow.write('{"v":1,"id":1,"method":"subscribe"}\n');
    const listening = await connectControl({ root });
    const seen: Array<{ type: string }> = [];
    void (async () => {
      for await (const e of listening.events()) seen.push(e as { type: string });
    })();
    await waitFor(() => (api.bus.emit({ type: 'warning', message: 'hello' }), seen.length > 0), 'subscribed');
    const line = 'y'.repeat(1000);
    const total = 30_000;
    for (let i = 0; i < total; i++) {
      api.bus.emit({ type: 'output', worker: 'w', generation: 1, stream: 'stdout', line });
      if (i % 50 === 0) await new Promise((r) => setTimeout(r, 0));
    }
    api.bus.emit({ type: 'warning', message: 'after the flood' });
    await waitFor(() => seen.some((e) => e.type === 'warning' && JSON.stringify(e).includes('after the flood')), 'the reading subscriber to get everything');
    expect(seen.filter((e) => e.type === 'output')).toHaveLength(total);

    let text = '';
    slow.setEncoding('utf8').on('data', (d: string) => (text = (text + d).slice(-20_000)));
    slow.resume();
    const m = await waitFor(() => /"type":"note","worker":"w","message":"([\d,]+) lines of output not sent: this client fell behind/.exec(text), 'the note counting dropped output');
    const dropped = Number(m[1]!.replace(/,/g, ''));
    expect(dropped).toBeGreaterThan(total / 2);
    expect(dropped).toBeLessThan(total);
    expect(text).toContain('after the flood');
    expect(closed).toBe(false);
    slow.destroy();
    listening.close();
  });

  it('releases holds on close, removes socket and lock, and then clients hear nobody runs', async () => {
    const api = fakeApi();
    const { server, root } = await serve(api);
    const c = await connectControl({ root });
    await c.hold('one');
    await c.hold('two');
    expect([...api.holds.values()]).toEqual(['one', 'two']);
    await server.close();
    await server.close();
    expect(api.holds.size).toBe(0);
    expect(existsSync(server.socketPath)).toBe(false);
    expect(existsSync(join(root, '.devsup/default.lock'))).toBe(false);
    await c.closed;
    const err = await connectControl({ root }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevsupError);
    expect(err).toMatchObject({ message: `no devsup is running for ${root}`, exitCode: 3 });
  });

  it('refuses a second server on the same project in the same process', async () => {
    const { root } = await serve(fakeApi());
    await expect(startControlServer(fakeApi(), { root, name: 'default' })).rejects.toThrow(`another devsup is already running for this project (pid ${process.pid})`);
  });

  it('answers requests sent before a half-close, then ends the connection', async () => {
    const api = fakeApi();
    const { server } = await serve(api);
    const s = connect(server.socketPath);
    let text = '';
    s.setEncoding('utf8').on('data', (d: string) => (text += d));
    const ended = new Promise((r) => s.on('end', r));
    s.end('{"v":1,"id":1,"method":"restart","params":{"all":true}}\n{"v":1,"id":2,"method":"snapshot"}\n');
    await ended;
    const replies = text.trim().split('\n').map((l) => JSON.parse(l) as { id: number; ok: boolean });
    expect(replies.map((r) => [r.id, r.ok]).sort()).toEqual([[1, true], [2, true]]);
    expect(api.calls).toEqual(['restart']);
  });
});
