import { spawn, type ChildProcess } from 'node:child_process';
import { lstatSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import type { DevsupEvent } from '../../src/core/events.js';
import type { Snapshot } from '../../src/watch/snapshot.js';
import { FIRST_LISTEN_WAIT_MS, learnedPortsPath, loadLearned, missingWarning, saveLearned, waitLearnedReady } from '../../src/worker/learned-ready.js';
import { Worker, type WorkerSpec } from '../../src/worker/worker.js';
import { specIn } from './machine-kit.js';
import { freeFixedPort, httpGet } from '../helpers/ports.js';
import { childKeeper, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const FIXTURE = new URL('../fixtures/slow-listen.mjs', import.meta.url).pathname;
const started = childKeeper();
afterEach(() => started.killAll());

function startFixture(args: string[]): ChildProcess {
  const c = spawn(process.execPath, [FIXTURE, ...args], { stdio: 'ignore' });
  started.keep(c);
  return c;
}

describe('waitLearnedReady', () => {
  it('resolves only once a server that boots slowly listens, and a request then reaches it', async () => {
    const port = await freeFixedPort();
    const t0 = Date.now();
    const c = startFixture([String(port), '400']);
    const r = await waitLearnedReady(c.pid!, { tcp: [port], unix: [] }, new AbortController().signal, 10_000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    expect(r).toEqual({ listening: { tcp: [port], unix: [] }, missing: { tcp: [], unix: [] }, added: { tcp: [], unix: [] } });
    await expect(httpGet(port)).resolves.toMatch(/none/);
  });

  it('gives up after the bound and names what was never opened', async () => {
    const [port, never] = [await freeFixedPort(), await freeFixedPort()];
    const c = startFixture([String(port), '0']);
    const t0 = Date.now();
    const r = await waitLearnedReady(c.pid!, { tcp: [port, never], unix: ['/nonexistent/x.sock'] }, new AbortController().signal, 800);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(750);
    expect(r.missing).toEqual({ tcp: [never], unix: ['/nonexistent/x.sock'] });
    expect(r.listening.tcp).toEqual([port]);
  });

  it('waits only a little longer when the tree listens on a new port instead (the port moved)', async () => {
    const [moved, old] = [await freeFixedPort(), await freeFixedPort()];
    const c = startFixture([String(moved), '0']);
    const t0 = Date.now();
    const r = await waitLearnedReady(c.pid!, { tcp: [old], unix: [] }, new AbortController().signal, 20_000);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect(r).toEqual({ listening: { tcp: [moved], unix: [] }, missing: { tcp: [old], unix: [] }, added: { tcp: [moved], unix: [] } });
    expect(missingWarning(r)).toBe(`ready without :${old}: the previous generation listened there, this one listens on :${moved} instead; no longer awaited`);
  });

  it('stops waiting when aborted (the generation ended)', async () => {
    const c = startFixture(['0', '60000']);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const t0 = Date.now();
    await waitLearnedReady(c.pid!, { tcp: [await freeFixedPort()], unix: [] }, ac.signal, 20_000);
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('the learned ports file', () => {
  it('round-trips, and is ignored for another command', async () => {
    const file = learnedPortsPath(join(tempDir(), '.devsup'), 'default', 'api.v2/x');
    expect(file).toMatch(/default\.api%2Ev2%2Fx\.ports\.json$/);
    await saveLearned(file, '["node","a.js"]', { tcp: [4310, 8080], unix: ['/p/app.sock'] });
    expect(await loadLearned(file, '["node","a.js"]')).toEqual({ tcp: [4310, 8080], unix: ['/p/app.sock'] });
    expect(await loadLearned(file, '["node","b.js"]')).toBeNull();
  });

  it('is never read or written through a symlink, and garbage is nothing', async () => {
    const dir = tempDir();
    const file = learnedPortsPath(join(dir, '.devsup'), 'default', 'main');
    const target = join(dir, 'elsewhere.json');
    writeFileSync(target, JSON.stringify({ v: 1, command: 'c', tcp: [1234], unix: [] }));
    await saveLearned(file, 'c', { tcp: [1], unix: [] });
    rmSync(file);
    symlinkSync(target, file);
    expect(await loadLearned(file, 'c')).toBeNull();
    await saveLearned(file, 'c', { tcp: [5555], unix: [] });
    expect(lstatSync(file).isSymbolicLink()).toBe(false);
    expect(JSON.parse(readFileSync(target, 'utf8')).tcp).toEqual([1234]);
    writeFileSync(file, '{"v":1,"command":"c","tcp":["x",-1,70000,80],"unix":[3,""]}');
    expect(await loadLearned(file, 'c')).toEqual({ tcp: [80], unix: [] });
    writeFileSync(file, 'not json');
    expect(await loadLearned(file, 'c')).toBeNull();
  });
});

function spec(root: string, command: string[], over: Partial<WorkerSpec> = {}): WorkerSpec {
  return specIn(root, command, { portsFile: learnedPortsPath(join(root, '.devsup'), 'default', 'w'), ...over });
}

const snap: Snapshot = { seq: 1, files: new Map(), codeId: 'c0ffee0000' };

async function withWorker(s: WorkerSpec, body: (w: Worker, events: DevsupEvent[]) => Promise<void>): Promise<void> {
  const bus = new Bus();
  const events: DevsupEvent[] = [];
  bus.on((e) => {
    events.push(e);
    if (e.type === 'worker-started') trackPid(e.pid);
    if (e.type === 'output') for (const m of e.line.matchAll(/pid=(\d+)/g)) trackPid(Number(m[1]));
  });
  const w = new Worker(s, bus, { latest: () => snap });
  try {
    await body(w, events);
  } finally {
    await w.shutdown();
  }
}

const readyOf = (events: DevsupEvent[], gen: number) => events.find((e): e is Extract<DevsupEvent, { type: 'ready' }> => e.type === 'ready' && e.generation === gen);

describe('a worker without configured readiness', () => {
  it('learns its ports, keeps them, and waits for them after a restart and in the next run', async () => {
    const root = tempDir();
    const port = await freeFixedPort();
    const sock = join(root, 'app.sock');
    const s = spec(root, ['node', FIXTURE, String(port), '300', sock]);
    await withWorker(s, async (w, events) => {
      const first = Date.now();
      await w.start();
      // A command never seen before: ready once it listens anywhere, and what it listens on is kept.
      expect((await waitFor(() => readyOf(events, 1), 'gen 1 ready')).how).toBe('ports');
      expect(Date.now() - first).toBeGreaterThanOrEqual(250);
      await waitFor(() => w.status().listening.tcp.length > 0 && w.status().listening.unix.length > 0, 'ports seen');
      await waitFor(() => loadLearned(s.portsFile, JSON.stringify(s.command)).then((l) => l?.tcp.length === 1 && l.unix.length === 1), 'ports kept');
      await w.restart();
      const t0 = Date.now();
      const r = await waitFor(() => readyOf(events, 2), 'gen 2 ready');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
      expect(r).toMatchObject({ how: 'ports', listening: { tcp: [port], unix: [sock] } });
      await expect(httpGet(port)).resolves.toMatch(/c0ffee0000/);
    });
    // A new worker (a new run) waits for them from its first start.
    await withWorker(s, async (w, events) => {
      await w.start();
      const r = await waitFor(() => readyOf(events, 1), 'gen 1 of the next run ready');
      expect(r).toMatchObject({ how: 'ports', listening: { tcp: [port], unix: [sock] } });
      await expect(httpGet(port)).resolves.toMatch(/c0ffee0000/);
    });
  });

  it('is ready with a warning when a learned port is not reopened within the bound, and stops waiting for it', async () => {
    const root = tempDir();
    const [a, b] = [await freeFixedPort(), await freeFixedPort()];
    const s = spec(root, ['node', FIXTURE, String(a), '0'], { learnedReadyTimeoutMs: 2000 });
    await saveLearned(s.portsFile!, JSON.stringify(s.command), { tcp: [a, b], unix: [] });
    await withWorker(s, async (w, events) => {
      const t0 = Date.now();
      await w.start();
      const r = await waitFor(() => readyOf(events, 1), 'ready after the bound');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1950);
      expect(r.listening).toEqual({ tcp: [a], unix: [] });
      const warn = events.find((e) => e.type === 'warning');
      expect(warn).toMatchObject({ worker: 'w', message: `ready without :${b}: the previous generation listened there, this one did not within 2 s; no longer awaited` });
      expect(await loadLearned(s.portsFile, JSON.stringify(s.command))).toEqual({ tcp: [a], unix: [] });
      await w.restart();
      const t1 = Date.now();
      await waitFor(() => readyOf(events, 2), 'gen 2 ready');
      expect(Date.now() - t1).toBeLessThan(1900);
    });
  });

  it('learns a port from the ephemeral range only once two generations in a row used it', async () => {
    const root = tempDir();
    let port = 0;
    for (let i = 0; i < 50 && port === 0; i++) {
      const p = 40000 + Math.floor(Math.random() * 20000);
      const ok = await new Promise<boolean>((res) => {
        const srv = createServer();
        srv.once('error', () => res(false));
        srv.listen(p, '127.0.0.1', () => srv.close(() => res(true)));
      });
      if (ok) port = p;
    }
    const s = spec(root, ['node', FIXTURE, String(port), '0']);
    await withWorker(s, async (w, events) => {
      await w.start();
      await waitFor(() => w.status().listening.tcp.includes(port), 'gen 1 listening');
      // Listening at all ends the first wait. A random port seen once is not kept, yet the command
      // is not known to listen on nothing either: the next generation is awaited the same way.
      expect((await waitFor(() => readyOf(events, 1), 'gen 1 ready')).how).toBe('ports');
      await w.restart();
      const second = await waitFor(() => readyOf(events, 2), 'gen 2 ready');
      expect(second.how).toBe('ports');
      expect(second.listening?.tcp).toContain(port);
      await waitFor(() => loadLearned(s.portsFile, JSON.stringify(s.command)).then((l) => l?.tcp.includes(port)), 'learned after the second use');
      await w.restart();
      expect((await waitFor(() => readyOf(events, 3), 'gen 3 ready')).how).toBe('ports');
    });
  });
});

describe('a command never seen before', () => {
  it('that never listens is ready after the first wait, and at spawn from then on', async () => {
    const root = tempDir();
    const s = spec(root, ['node', '-e', "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000)"]);
    await withWorker(s, async (w, events) => {
      const t0 = Date.now();
      await w.start();
      expect((await waitFor(() => readyOf(events, 1), 'gen 1 ready')).how).toBe('started');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(FIRST_LISTEN_WAIT_MS - 100);
      expect(await loadLearned(s.portsFile, JSON.stringify(s.command))).toEqual({ tcp: [], unix: [] });
      await w.restart();
      const t1 = Date.now();
      await waitFor(() => readyOf(events, 2), 'gen 2 ready');
      expect(Date.now() - t1).toBeLessThan(1000);
    });
  });

  it('whose generations are stopped before they listen keeps waiting for a first listen, so one finally teaches its port', async () => {
    const root = tempDir();
    const port = await freeFixedPort();
    const s = spec(root, ['node', FIXTURE, String(port), '400']);
    await withWorker(s, async (w, events) => {
      // An edit loop faster than the boot: each restart comes as soon as the previous one is ready.
      await w.start();
      for (let gen = 1; gen <= 3; gen++) {
        await waitFor(() => readyOf(events, gen), `gen ${gen} ready`);
        await expect(httpGet(port)).resolves.toMatch(/c0ffee0000/);
        await w.restart();
      }
      expect((await waitFor(() => readyOf(events, 4), 'gen 4 ready')).how).toBe('ports');
    });
  });
});
