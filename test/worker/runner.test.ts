import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import type { DevsupEvent } from '../../src/core/events.js';
import { SpawnError } from '../../src/process/spawn.js';
import { viewOf } from '../../src/supervisor/view.js';
import type { Snapshot } from '../../src/watch/snapshot.js';
import type { DepCheck } from '../../src/worker/machine.js';
import type { ReadinessProbe } from '../../src/worker/readiness.js';
import type { RunnerOptions } from '../../src/worker/runner.js';
import { Worker, type WorkerSpec } from '../../src/worker/worker.js';
import { waitFor } from '../helpers/wait.js';
import { FakePort } from './fake-port.js';
import { snap, spec } from './machine-kit.js';

interface Rig {
  worker: Worker;
  port: FakePort;
  events: DevsupEvent[];
  latest: { snap: Snapshot };
  quit: number[];
  deps: { check: DepCheck };
}

function rig(over: Partial<WorkerSpec> = {}, opts: RunnerOptions & { gated?: boolean } = {}): Rig {
  const bus = new Bus();
  const events: DevsupEvent[] = [];
  bus.on((e) => events.push(e));
  const port = new FakePort();
  const latest = { snap: snap('aaaa', 1, { '/p/app.js': 'v1' }) };
  const quit: number[] = [];
  const deps: { check: DepCheck } = { check: { ok: true, codes: {} } };
  const worker = new Worker(
    spec({ graceMs: 20, ...over }),
    bus,
    { latest: () => latest.snap, onQuit: (c) => quit.push(c), deps: opts.gated ? () => deps.check : undefined },
    { port, exitLagMs: 20, stopSlackMs: 50, ...opts },
  );
  return { worker, port, events, latest, quit, deps };
}

const types = (events: DevsupEvent[]): string[] => events.map((e) => e.type);

describe('worker runner against a fake process port', () => {
  it('start resolves once the child runs; a change stops the tree before the next spawn', async () => {
    const r = rig();
    await r.worker.start();
    expect(r.worker.status()).toMatchObject({ state: 'running', pid: 1000, generation: 1, ready: true, codeId: 'aaaa' });
    r.latest.snap = snap('bbbb', 2, { '/p/app.js': 'v2' });
    await r.worker.changed();
    expect(r.port.calls).toEqual(['spawn 1', 'stop 1000', 'spawn 2']);
    expect(r.worker.status()).toMatchObject({ state: 'running', pid: 1001, generation: 2, codeId: 'bbbb', restarts: 1 });
    expect(types(r.events)).toEqual(['worker-starting', 'worker-started', 'ready', 'stale', 'stopping', 'stopped', 'worker-starting', 'worker-started', 'ready']);
    await r.worker.shutdown();
    expect(r.worker.current.kind).toBe('done');
  });

  it('a restart requested while a stop is under way is applied after it, never dropped or doubled', async () => {
    const r = rig();
    await r.worker.start();
    await Promise.all([r.worker.restart(), r.worker.restart(), r.worker.restart()]);
    expect(r.port.calls).toEqual(['spawn 1', 'stop 1000', 'spawn 2']);
    await r.worker.shutdown();
  });

  it('a child that exits by itself is reported, and a crash loop backs off', async () => {
    const r = rig({ onExit: 'restart' });
    await r.worker.start();
    r.port.last.exit(1);
    await waitFor(() => r.worker.current.kind === 'backoff', 'backoff');
    expect(r.events.find((e) => e.type === 'backoff')).toMatchObject({ attempt: 1, delayMs: 500 });
    // A stop during the backoff wins over its timer.
    await r.worker.stop();
    expect(r.worker.current.kind).toBe('idle');
    await new Promise((res) => setTimeout(res, 600));
    expect(r.port.calls).toEqual(['spawn 1']);
  });

  it('a stop that keeps throwing EMFILE still ends: the group is killed and the worker says so', async () => {
    const r = rig();
    await r.worker.start();
    r.port.stopMode = 'throw';
    const t0 = Date.now();
    await r.worker.shutdown();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(r.worker.current.kind).toBe('done');
    // Quitting looks once more after killing the group, then ends.
    expect(r.port.calls.filter((c) => c === 'stop 1000')).toHaveLength(2);
    expect(r.port.calls).toContain('killGroup 1000');
    const warnings = r.events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message);
    expect(warnings[0]).toMatch(/stopping generation 1 failed \(EMFILE.*\); its process group was killed/);
    expect(warnings.at(-1)).toMatch(/could not confirm that generation 1 stopped/);
    expect(r.events.find((e) => e.type === 'stopped')).toMatchObject({ how: 'gave-up' });
  });

  it('a restart whose stop keeps throwing retries with backoff, then starts the next generation saying so', async () => {
    const r = rig();
    await r.worker.start();
    r.port.stopMode = 'throw';
    await r.worker.restart();
    expect(r.port.calls.filter((c) => c === 'stop 1000')).toHaveLength(4);
    expect(r.worker.status()).toMatchObject({ state: 'running', generation: 2 });
    expect(r.port.children[0]!.done).toBe(true);
    r.port.stopMode = 'ok';
    await r.worker.shutdown();
  });

  it('a stop that throws once is retried and the next generation starts as usual', async () => {
    const r = rig();
    await r.worker.start();
    r.port.stopMode = 'throw';
    r.port.throwsLeft = 1;
    await r.worker.restart();
    expect(r.worker.status()).toMatchObject({ state: 'running', generation: 2 });
    expect(r.port.calls).toEqual(['spawn 1', 'stop 1000', 'killGroup 1000', 'stop 1000', 'spawn 2']);
    await r.worker.shutdown();
  });

  it('a stop that never answers is given up by its watchdog, and Ctrl-C still finishes', async () => {
    const r = rig();
    r.port.stubborn = true;
    await r.worker.start();
    r.port.stopMode = 'hang';
    await r.worker.shutdown();
    expect(r.worker.current.kind).toBe('done');
    expect(r.events.filter((e) => e.type === 'warning').length).toBeGreaterThan(0);
  });

  it('a child that ignores every signal is reported as a survivor, and the worker moves on', async () => {
    const r = rig();
    r.port.stubborn = true;
    await r.worker.start();
    await r.worker.stop();
    expect(r.worker.current.kind).toBe('idle');
    expect(r.events.find((e) => e.type === 'stopped')).toMatchObject({ how: 'gave-up', survivors: 1 });
    expect(r.events.find((e) => e.type === 'warning')).toMatchObject({ message: expect.stringMatching(/survived SIGKILL: 1000/) });
  });

  it('with --on-exit quit, a command that cannot be started quits with 127 or 126 at once', async () => {
    for (const [err, code] of [
      [new SpawnError('command not found: nope', 'not-found'), 127],
      [new SpawnError('permission denied: ./x', 'permission'), 126],
    ] as const) {
      const r = rig({ onExit: 'quit' });
      r.port.spawnError = err;
      await r.worker.start();
      expect(r.quit).toEqual([code]);
      expect(r.events.find((e) => e.type === 'spawn-failed')).toMatchObject({ message: err.message, exitCode: code });
      expect(types(r.events)).not.toContain('waiting');
    }
  });

  it('a log line marks the generation ready; lines of the stopped one do not', async () => {
    const r = rig({ ready: { log: /^READY/ } });
    await r.worker.start();
    expect(r.worker.status().ready).toBe(false);
    r.port.last.print('booting');
    r.port.last.print('\u001b[32mREADY\u001b[0m on 3000');
    await waitFor(() => r.worker.status().ready, 'ready');
    expect(r.events.filter((e) => e.type === 'ready')).toEqual([{ type: 'ready', worker: 'w', generation: 1, how: 'log' }]);
    await r.worker.shutdown();
  });

  it('an injected probe is one more way to be ready; one that times out warns and counts as ready', async () => {
    const probe: ReadinessProbe = async ({ signal }) => {
      await new Promise((res) => setTimeout(res, 10));
      return signal.aborted ? undefined : { kind: 'timed-out', how: 'port', message: 'never listened again on :4310' };
    };
    const r = rig({}, { probe });
    await r.worker.start();
    await waitFor(() => r.worker.status().ready, 'ready');
    expect(types(r.events).slice(-2)).toEqual(['warning', 'ready']);
    await r.worker.shutdown();
  });

  it('a probe for services without configured readiness applies only to them, and its ports reach the ready event', async () => {
    const unconfiguredProbe: ReadinessProbe = async () => ({ kind: 'ready', how: 'port', ports: [4310] });
    const r = rig({}, { unconfiguredProbe });
    await r.worker.start();
    await waitFor(() => r.worker.status().ready, 'ready');
    expect(r.events.filter((e) => e.type === 'ready')).toEqual([{ type: 'ready', worker: 'w', generation: 1, how: 'port', ports: [4310] }]);
    expect(r.worker.current).toMatchObject({ ports: [4310], signalled: true });
    await r.worker.shutdown();
    const configured = rig({ ready: { log: /^UP/ } }, { unconfiguredProbe });
    await configured.worker.start();
    configured.port.last.print('UP');
    await waitFor(() => configured.worker.status().ready, 'ready by its log');
    expect(configured.events.find((e) => e.type === 'ready')).toMatchObject({ how: 'log' });
    await configured.worker.shutdown();
  });

  it('a worker with dependencies waits at the gate, and its start resolves while it waits', async () => {
    const r = rig({}, { gated: true });
    r.deps.check = { ok: false, waiting: ['api'] };
    await r.worker.start();
    expect(r.worker.current).toMatchObject({ kind: 'starting', step: 'deps' });
    await waitFor(() => viewOf(r.worker).message === 'waiting for api to be ready', 'the reason shown');
    expect(r.port.calls).toEqual([]);
    r.deps.check = { ok: true, codes: { api: '9f2c41d0ab' } };
    r.worker.depsChanged();
    await waitFor(() => r.worker.current.kind === 'running', 'running');
    expect(r.worker.current).toMatchObject({ deps: { api: '9f2c41d0ab' } });
    expect(viewOf(r.worker).message).toBeNull();
    await r.worker.shutdown();
  });

  it('a task run is filed with the code ids it ran against; a stopped run is cancelled', async () => {
    const r = rig({ kind: 'task' }, { gated: true });
    r.deps.check = { ok: true, codes: { api: '9f2c41d0ab' } };
    await r.worker.start();
    await waitFor(() => r.worker.current.kind === 'running', 'running');
    r.port.last.exit(0);
    await waitFor(() => r.events.find((e) => e.type === 'task-finished'), 'a result');
    expect(r.events.find((e) => e.type === 'task-finished')).toMatchObject({ result: 'passed', deps: { api: '9f2c41d0ab' } });
    await r.worker.restart();
    await waitFor(() => r.worker.current.kind === 'running', 'running again');
    await r.worker.stop();
    expect(r.events.filter((e) => e.type === 'task-finished').map((e) => (e as { result: string }).result)).toEqual(['passed', 'cancelled']);
  });

  it('input for the child goes to the running generation only', async () => {
    const r = rig({ stdin: 'pipe' });
    expect(r.worker.stdin).toBeUndefined();
    await r.worker.start();
    const got: string[] = [];
    r.port.last.stdin.on('data', (b: Buffer) => got.push(b.toString()));
    r.worker.stdin?.write('hello\n');
    await waitFor(() => got.join('') === 'hello\n', 'the line');
    await r.worker.shutdown();
    expect(r.worker.stdin).toBeUndefined();
  });

  it('a restart tells every line the old child printed on its way out before the new one is spawned', async () => {
    const bus = new Bus();
    const port = new FakePort();
    const told: string[] = [];
    const worker = new Worker(spec({ graceMs: 500 }), bus, { latest: () => snap('aaaa', 1, {}), onOutput: (gen, _s, line) => told.push(`${gen}: ${line} (${port.calls.join(', ')})`) }, { port, exitLagMs: 20 });
    await worker.start();
    port.last.lastWords = { lines: ['SIGNAL SIGTERM', 'bye'], drainMs: 40 };
    await worker.restart();
    expect(told).toEqual(['1: SIGNAL SIGTERM (spawn 1, stop 1000)', '1: bye (spawn 1, stop 1000)']);
    expect(port.calls).toEqual(['spawn 1', 'stop 1000', 'spawn 2']);
    await worker.shutdown();
  });

  it('a restart stops the old tree at once but starts the new child only once the tree has looked at the rest, on what it found', async () => {
    const bus = new Bus();
    const events: DevsupEvent[] = [];
    bus.on((e) => events.push(e));
    const port = new FakePort();
    const latest = { snap: snap('aaaa', 1, { '/p/app.js': 'v1' }) };
    let looking: Promise<void> = Promise.resolve();
    const worker = new Worker(spec({ graceMs: 20 }), bus, { latest: () => latest.snap, settled: () => looking }, { port, exitLagMs: 20, stopSlackMs: 50 });
    await worker.start();
    let done!: () => void;
    looking = new Promise<void>((resolve) => (done = resolve));
    // The settled path shows a change; the look at the rest of the tree is still under way.
    latest.snap = snap('bbbb', 2, { '/p/app.js': 'v2' });
    const restarted = worker.changed();
    await waitFor(() => worker.current.kind === 'starting' && worker.current.step === 'clear', 'the old tree stopped');
    expect(port.calls).toEqual(['spawn 1', 'stop 1000']);
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(port.calls).toEqual(['spawn 1', 'stop 1000']);
    // The rest of the look found another file changed: the child starts on both, once.
    latest.snap = snap('cccc', 3, { '/p/app.js': 'v2', '/p/lib.js': 'v2' });
    void worker.changed();
    done();
    await restarted;
    await waitFor(() => worker.current.kind === 'running' && worker.current.gen === 2, 'generation 2 running');
    expect(port.calls).toEqual(['spawn 1', 'stop 1000', 'spawn 2']);
    expect(worker.status()).toMatchObject({ generation: 2, codeId: 'cccc', staleFiles: [] });
    await worker.shutdown();
  });
});

