import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { readyWorker } from './apps.js';
import { devsup, startHarness, stopHarnesses } from './rig.js';

/** A raw connection: what it was sent back, line by line, and whether the server closed it. */
class Raw {
  readonly socket: Socket;
  readonly replies: Array<Record<string, unknown>> = [];
  closed = false;
  private buf = '';

  constructor(path: string) {
    this.socket = connect(path);
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.buf += d;
      for (let i = this.buf.indexOf('\n'); i >= 0; i = this.buf.indexOf('\n')) {
        this.replies.push(JSON.parse(this.buf.slice(0, i)) as Record<string, unknown>);
        this.buf = this.buf.slice(i + 1);
      }
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => (this.closed = true));
  }

  send(text: string): void {
    this.socket.write(text);
  }

  reply(n: number): Promise<Record<string, unknown>> {
    return waitFor(() => this.replies[n], `reply #${n}; got ${JSON.stringify(this.replies)}`);
  }
}

let raws: Raw[] = [];
afterEach(async () => {
  for (const r of raws) r.socket.destroy();
  raws = [];
  await stopHarnesses();
});

const raw = (path: string): Raw => {
  const r = new Raw(path);
  raws.push(r);
  return r;
};

describe('control server robustness', () => {
  it('answers garbage, unknown methods and bad params with errors, and keeps serving', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker('web')] });
    const c = raw(h.socketPath);
    const lines = [
      'this is not json',
      '42',
      '{"v":1,"method":"snapshot"}',
      '{"v":9,"id":1,"method":"snapshot"}',
      '{"v":1,"id":2,"method":"exec","params":{"cmd":"rm -rf /"}}',
      '{"v":1,"id":3,"method":"stop","params":{"name":"ghost"}}',
      '{"v":1,"id":4,"method":"restart","params":{}}',
      '{"v":1,"id":5,"method":"logs","params":{"name":"web","lines":"all"}}',
      '{"v":1,"id":6,"method":"release","params":{"holdId":"h999"}}',
      '{"v":1,"id":7,"method":"start","params":{"name":"web; touch /tmp/pwned"}}',
      '{"v":1,"id":"s","method":"snapshot"}',
    ];
    c.send(`${lines.join('\n')}\n`);
    await c.reply(lines.length - 1);
    const byId = (id: unknown) => c.replies.find((r) => r.id === id);
    expect(c.replies.slice(0, 3)).toMatchObject([
      { v: 1, id: null, ok: false, error: { code: 'bad-json' } },
      { id: null, ok: false, error: { code: 'bad-request' } },
      { id: null, ok: false, error: { code: 'bad-request' } },
    ]);
    expect(byId(1)).toMatchObject({ ok: false, error: { code: 'unsupported-version' } });
    expect(byId(2)).toMatchObject({ ok: false, error: { code: 'unknown-method' } });
    expect(byId(3)).toMatchObject({ ok: false, error: { code: 'unknown-worker', message: 'unknown worker "ghost"; workers: web' } });
    expect(byId(4)).toMatchObject({ ok: false, error: { code: 'bad-params' } });
    expect(byId(5)).toMatchObject({ ok: false, error: { code: 'bad-params' } });
    expect(byId(6)).toMatchObject({ ok: false, error: { code: 'unknown-hold' } });
    expect(byId(7)).toMatchObject({ ok: false, error: { code: 'unknown-worker' } });
    expect(byId('s')).toMatchObject({ ok: true, result: { pid: h.pid, workers: [{ name: 'web' }] } });
    expect(c.closed).toBe(false);
    expect(h.count((e) => e.type === 'worker-starting')).toBe(1);
  });

  it('answers an oversized line with an error and closes only that connection', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker('web')] });
    const big = raw(h.socketPath);
    const other = raw(h.socketPath);
    // 2 MiB with no newline at all, in pieces.
    const chunk = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 32; i++) big.send(chunk);
    expect(await big.reply(0)).toMatchObject({ v: 1, id: null, ok: false, error: { code: 'too-large' } });
    await waitFor(() => big.closed, 'oversized connection closed');

    other.send('{"v":1,"id":1,"method":"snapshot"}\n');
    expect(await other.reply(0)).toMatchObject({ id: 1, ok: true });
    expect((await devsup(['status'], root)).code).toBe(0);
    expect(h.proc.exitCode).toBeNull();
  });

  it('is not blocked by clients that connect and hang, or stop mid-line', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker('web')] });
    const silent = raw(h.socketPath);
    const midLine = raw(h.socketPath);
    midLine.send('{"v":1,"id":1,"meth');
    // A subscriber that never reads while events flow.
    const deaf = raw(h.socketPath);
    deaf.socket.pause();
    deaf.send('{"v":1,"id":1,"method":"subscribe"}\n');
    await waitFor(() => silent.socket.readyState === 'open' && midLine.socket.readyState === 'open', 'connected');

    const t0 = Date.now();
    const r = await devsup(['restart', 'web'], root);
    expect(r.code).toBe(0);
    expect((await devsup(['status'], root)).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(silent.replies).toEqual([]);
    expect(midLine.replies).toEqual([]);
  });

  it('streams events to a subscriber and answers requests on the same connection, matched by id', async () => {
    const root = tempDir();
    const h = await startHarness({ root, workers: [readyWorker('web')] });
    await h.waitEvent((e) => e.type === 'ready', 'ready');
    const c = raw(h.socketPath);
    c.send('{"v":1,"id":1,"method":"subscribe"}\n');
    expect(await c.reply(0)).toEqual({ v: 1, id: 1, ok: true, result: {} });
    c.send('{"v":1,"id":2,"method":"hold","params":{"holder":"raw test"}}\n');
    await waitFor(() => c.replies.find((r) => r.id === 2), 'hold answer');
    const holdId = (c.replies.find((r) => r.id === 2)!.result as { holdId: string }).holdId;
    c.send(`{"v":1,"id":3,"method":"release","params":{"holdId":"${holdId}"}}\n`);
    await waitFor(() => c.replies.find((r) => r.id === 3), 'release answer');
    const events = c.replies.filter((r) => 'event' in r).map((r) => r.event as Record<string, unknown>);
    expect(events).toMatchObject([
      { v: 1, type: 'hold', holder: 'raw test', holds: 1 },
      { v: 1, type: 'release', holder: 'raw test', holds: 0 },
    ]);
    expect(c.replies.every((r) => r.v === 1)).toBe(true);
  });
});
