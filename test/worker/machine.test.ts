import { describe, expect, it } from 'vitest';
import { INITIAL, STOP_ATTEMPTS, step, type Input, type MachineState, type Phase } from '../../src/worker/machine.js';
import { child, config, Drive, exit, snap, stopResult, types } from './machine-kit.js';

const A = snap('aaaa', 1, { '/p/app.js': 'v1' });
const B = snap('bbbb', 2, { '/p/app.js': 'v2' });
const C = snap('cccc', 3, { '/p/app.js': 'v3' });

describe('worker machine: starting', () => {
  it('clears, spawns on the snapshot taken after clearing, and is ready at once without a probe', () => {
    const d = new Drive(config());
    d.feed({ type: 'start', reason: 'initial' });
    expect(d.phase).toMatchObject({ kind: 'starting', gen: 1, step: 'clear' });
    expect(types(d.take())).toEqual(['emit:worker-starting', 'clear']);
    d.feed({ type: 'cleared', gen: 1, env: { PYTHONPYCACHEPREFIX: '/x' }, count: 0, bytes: 0, snapshot: A, searchAfter: false });
    const spawn = d.take().find((e) => e.type === 'spawn');
    expect(spawn).toMatchObject({ gen: 1, env: { DEVSUP: '1', DEVSUP_GENERATION: '1', DEVSUP_CODE_ID: 'aaaa', PYTHONPYCACHEPREFIX: '/x' } });
    d.feed({ type: 'spawned', gen: 1, child: child(101) });
    expect(d.phase).toMatchObject({ kind: 'running', gen: 1, pid: 101, ready: true, snapshot: A });
    expect(types(d.take())).toEqual(['attach', 'emit:worker-started', 'watch', 'emit:ready']);
  });

  it('probes readiness instead when a probe applies, and marks ready on the probe of its own generation only', () => {
    const d = new Drive(config({ ready: { log: /up/ } }));
    d.run(A);
    expect(d.phase).toMatchObject({ kind: 'running', ready: false });
    expect(types(d.take())).toContain('probeReady');
    d.feed({ type: 'readySeen', gen: 7, how: 'log' });
    expect(d.phase).toMatchObject({ ready: false });
    d.feed({ type: 'readySeen', gen: 1, how: 'log' });
    expect(d.phase).toMatchObject({ ready: true, signalled: true });
    expect(d.events(d.take())).toEqual([{ type: 'ready', worker: 'w', generation: 1, how: 'log' }]);
  });

  it('waits at the gate of a worker with dependencies before telling anyone it starts', () => {
    const d = new Drive(config({}, { gated: true }));
    d.feed({ type: 'start', reason: 'initial' });
    expect(d.phase).toMatchObject({ kind: 'starting', step: 'deps' });
    expect(types(d.take())).toEqual(['gate']);
    d.feed({ type: 'depsReady', gen: 99, codes: { api: 'x' } });
    expect(d.phase).toMatchObject({ step: 'deps' });
    d.feed({ type: 'depsReady', gen: 1, codes: { api: 'x' } });
    expect(d.phase).toMatchObject({ step: 'clear', deps: { api: 'x' } });
    expect(types(d.take())).toEqual(['emit:worker-starting', 'clear']);
  });

  it('a stop while waiting at the gate goes back to idle at once', () => {
    const d = new Drive(config({}, { gated: true }));
    d.feed({ type: 'start', reason: 'initial' }, { type: 'stop' });
    expect(d.phase.kind).toBe('idle');
    d.take();
    d.feed({ type: 'depsReady', gen: 1, codes: {} });
    expect(d.phase.kind).toBe('idle');
    expect(d.take()).toEqual([]);
  });

  it('a stop while caches are being cleared does not wait for the clear, whose answer is then ignored', () => {
    const d = new Drive(config());
    d.feed({ type: 'start', reason: 'initial' }, { type: 'shutdown' });
    expect(d.phase.kind).toBe('done');
    d.take();
    d.feed({ type: 'cleared', gen: 1, env: {}, count: 0, bytes: 0, snapshot: A, searchAfter: false });
    expect(d.take()).toEqual([]);
  });

  it('a stop during the spawn waits for the child, then stops it', () => {
    const d = new Drive(config());
    d.feed({ type: 'start', reason: 'initial' }, { type: 'cleared', gen: 1, env: {}, count: 0, bytes: 0, snapshot: A, searchAfter: false }, { type: 'stop' });
    expect(d.phase).toMatchObject({ kind: 'starting', step: 'spawn', cancel: 'idle' });
    d.feed({ type: 'spawned', gen: 1, child: child(101) });
    expect(d.phase).toMatchObject({ kind: 'stopping', then: { next: 'idle' } });
  });

  it('a sweep of leftovers that never answers does not hold the start up', () => {
    const left = { root: { pid: 101, start: 't' }, members: [{ pid: 555, start: 'u' }] };
    const d = new Drive(config());
    d.run(A);
    d.feed({ type: 'exited', gen: 1, exit: exit(0), leftovers: left }, { type: 'changed', latest: B });
    const arm = d.take().find((e) => e.type === 'arm');
    expect(arm).toMatchObject({ name: 'stop-watchdog' });
    d.feed({ type: 'timer', name: 'stop-watchdog', epoch: (arm as { epoch: number }).epoch });
    expect(d.phase).toMatchObject({ kind: 'starting', step: 'clear' });
    expect(d.events(d.take())).toMatchObject([{ type: 'warning', message: expect.stringMatching(/left behind/) }]);
  });

  it('a change during the spawn makes the new generation stale and restarts it onto the change', () => {
    const d = new Drive(config());
    d.feed({ type: 'start', reason: 'initial' });
    d.feed({ type: 'cleared', gen: 1, env: {}, count: 0, bytes: 0, snapshot: A, searchAfter: false });
    d.feed({ type: 'changed', latest: B });
    d.take();
    d.feed({ type: 'spawned', gen: 1, child: child(101) });
    const ev = d.events(d.take());
    expect(ev.map((e) => e.type)).toEqual(['worker-started', 'ready', 'stale', 'stopping']);
    expect(ev.find((e) => e.type === 'stale')).toMatchObject({ files: ['app.js'], restarting: true });
    expect(d.phase).toMatchObject({ kind: 'stopping', then: { next: 'start', ctx: { reason: 'change' } } });
  });

  it('a change before the caches are cleared needs nothing: the spawn takes the later snapshot', () => {
    const d = new Drive(config());
    d.feed({ type: 'start', reason: 'initial' }, { type: 'changed', latest: B });
    d.feed({ type: 'cleared', gen: 1, env: {}, count: 0, bytes: 0, snapshot: B, searchAfter: false });
    d.feed({ type: 'spawned', gen: 1, child: child(101) });
    expect(d.phase).toMatchObject({ kind: 'running', snapshot: B });
  });

  it('spawn failure waits for a change, or with --on-exit quit ends with 127 / 126', () => {
    const cases = [
      { onExit: 'wait' as const, reason: 'not-found' as const, quit: undefined },
      { onExit: 'quit' as const, reason: 'not-found' as const, quit: 127 },
      { onExit: 'quit' as const, reason: 'permission' as const, quit: 126 },
      { onExit: 'quit' as const, reason: 'cwd' as const, quit: 1 },
    ];
    for (const c of cases) {
      const d = new Drive(config({ onExit: c.onExit }));
      d.feed({ type: 'start', reason: 'initial' }, { type: 'cleared', gen: 1, env: {}, count: 0, bytes: 0, snapshot: A, searchAfter: false });
      d.take();
      d.feed({ type: 'spawnFailed', gen: 1, message: 'command not found: nope', reason: c.reason });
      expect(d.phase).toMatchObject({ kind: 'start-failed', message: 'command not found: nope' });
      const effects = d.take();
      expect(effects.find((e) => e.type === 'quit')).toEqual(c.quit === undefined ? undefined : { type: 'quit', code: c.quit });
      expect(d.events(effects).map((e) => e.type)).toEqual(c.quit === undefined ? ['spawn-failed', 'waiting'] : ['spawn-failed']);
    }
  });
});

describe('worker machine: stopping', () => {
  function stopping(): Drive {
    const d = new Drive(config());
    d.run(A);
    d.feed({ type: 'changed', latest: B });
    d.take();
    return d;
  }

  it('a restart during a stop is remembered, and the next generation starts only once the tree is gone', () => {
    const d = stopping();
    d.feed({ type: 'restart', latest: B, reason: 'manual' });
    expect(d.phase).toMatchObject({ kind: 'stopping', then: { next: 'start', ctx: { reason: 'manual' } } });
    expect(d.take().some((e) => e.type === 'spawn' || e.type === 'clear')).toBe(false);
    d.feed({ type: 'stopped', gen: 1, attempt: 1, result: stopResult(), exit: exit(null, 30, 'SIGTERM') });
    expect(d.phase).toMatchObject({ kind: 'starting', gen: 2, ctx: { reason: 'manual', stopMs: 12 } });
    expect(d.state.restarts).toBe(1);
  });

  it('a stop during a stop that would restart wins, and a shutdown wins over both', () => {
    const d = stopping();
    d.feed({ type: 'stop' });
    expect(d.phase).toMatchObject({ then: { next: 'idle' } });
    d.feed({ type: 'shutdown' }, { type: 'restart', latest: B, reason: 'manual' }, { type: 'start', reason: 'manual' });
    expect(d.phase).toMatchObject({ then: { next: 'done' } });
    d.feed({ type: 'stopped', gen: 1, attempt: 1, result: stopResult() });
    expect(d.phase.kind).toBe('done');
  });

  it('an exit during the stop is the exit record the stop reports', () => {
    const d = stopping();
    d.feed({ type: 'exited', gen: 1, exit: exit(143, 80, null) });
    expect(d.phase.kind).toBe('stopping');
    d.feed({ type: 'stopped', gen: 1, attempt: 1, result: stopResult() });
    expect(d.state.lastExit).toEqual(exit(143, 80, null));
    expect(d.events(d.take()).filter((e) => e.type === 'exited')).toEqual([]);
  });

  it('how the tree went is told as it was', () => {
    const table = [
      { result: stopResult(), how: 'signal' },
      { result: stopResult({ forced: true }), how: 'killed' },
      { result: stopResult({ gaveUp: true }), how: 'gave-up' },
      { result: stopResult({ treeSize: 0 }), how: 'already-exited' },
    ];
    for (const row of table) {
      const d = stopping();
      d.feed({ type: 'stopped', gen: 1, attempt: 1, result: row.result });
      expect(d.events(d.take()).find((e) => e.type === 'stopped')).toMatchObject({ how: row.how, generation: 1 });
    }
  });

  it('a stop that throws kills the group, retries with backoff, and then moves on saying so', () => {
    const d = stopping();
    const c = (d.phase as Extract<Phase, { kind: 'stopping' }>).child!;
    for (let attempt = 1; attempt < STOP_ATTEMPTS; attempt++) {
      d.feed({ type: 'stopFailed', gen: 1, attempt, message: 'EMFILE: too many open files' });
      const effects = d.take();
      expect(effects).toContainEqual({ type: 'killGroup', pid: c.pid, child: c });
      const arm = effects.find((e) => e.type === 'arm');
      expect(arm).toMatchObject({ name: 'stop-retry', ms: 100 * 2 ** (attempt - 1) });
      expect(d.phase).toMatchObject({ kind: 'stopping', attempt: attempt + 1 });
      d.feed({ type: 'timer', name: 'stop-retry', epoch: d.state.epoch });
      expect(d.take()).toContainEqual(expect.objectContaining({ type: 'stop', attempt: attempt + 1 }));
    }
    d.feed({ type: 'stopFailed', gen: 1, attempt: STOP_ATTEMPTS, message: 'EMFILE' });
    const ev = d.events(d.take());
    expect(ev.find((e) => e.type === 'stopped')).toMatchObject({ how: 'gave-up' });
    expect(ev.find((e) => e.type === 'warning')).toMatchObject({ message: expect.stringMatching(/could not confirm that generation 1 stopped/) });
    expect(d.phase).toMatchObject({ kind: 'starting', gen: 2 });
  });

  it('a stop that never answers is failed by its watchdog; an answer from an older attempt is ignored', () => {
    const d = stopping();
    d.take();
    const firstEpoch = d.state.epoch;
    d.feed({ type: 'timer', name: 'stop-watchdog', epoch: firstEpoch });
    expect(d.phase).toMatchObject({ kind: 'stopping', attempt: 2 });
    // The first attempt's watchdog cannot fail the second attempt.
    d.feed({ type: 'timer', name: 'stop-watchdog', epoch: firstEpoch });
    expect(d.phase).toMatchObject({ kind: 'stopping', attempt: 2 });
    d.feed({ type: 'stopped', gen: 1, attempt: 1, result: stopResult() });
    expect(d.phase).toMatchObject({ kind: 'stopping', attempt: 2 });
    d.feed({ type: 'timer', name: 'stop-retry', epoch: d.state.epoch }, { type: 'stopped', gen: 1, attempt: 2, result: stopResult() });
    expect(d.phase).toMatchObject({ kind: 'starting', gen: 2 });
  });

  it('a shutdown while a stop keeps failing still ends in done', () => {
    const d = stopping();
    d.feed({ type: 'shutdown' });
    for (let attempt = 1; attempt <= STOP_ATTEMPTS; attempt++) {
      d.feed({ type: 'stopFailed', gen: 1, attempt, message: 'EMFILE' });
      if (attempt < STOP_ATTEMPTS) d.feed({ type: 'timer', name: 'stop-retry', epoch: d.state.epoch });
    }
    expect(d.phase.kind).toBe('done');
  });
});

describe('worker machine: exits, backoff and timers', () => {
  it('a crash backs off, doubling, and a late timer of an old epoch is ignored', () => {
    const d = new Drive(config({ onExit: 'restart' }));
    d.run(A);
    d.feed({ type: 'exited', gen: 1, exit: exit(1) });
    expect(d.phase).toMatchObject({ kind: 'backoff', attempt: 1 });
    const first = d.take().find((e) => e.type === 'arm');
    expect(first).toMatchObject({ name: 'backoff', ms: 500 });
    const oldEpoch = (first as { epoch: number }).epoch;
    d.feed({ type: 'timer', name: 'backoff', epoch: oldEpoch });
    expect(d.phase).toMatchObject({ kind: 'starting', gen: 2, ctx: { reason: 'crash' } });
    d.run(A);
    d.take();
    // The timer of the first backoff fires again (late): the running generation is untouched.
    d.feed({ type: 'timer', name: 'backoff', epoch: oldEpoch });
    expect(d.phase).toMatchObject({ kind: 'running', gen: 2 });
    d.feed({ type: 'exited', gen: 2, exit: exit(1) });
    expect(d.take().find((e) => e.type === 'arm')).toMatchObject({ name: 'backoff', ms: 1000 });
    // An exit of generation 1 arriving now changes nothing.
    d.feed({ type: 'exited', gen: 1, exit: exit(9) });
    expect(d.phase).toMatchObject({ kind: 'backoff', gen: 2, attempt: 2 });
    // Nor does the first backoff's timer, firing late into the second backoff.
    d.feed({ type: 'timer', name: 'backoff', epoch: oldEpoch });
    expect(d.phase).toMatchObject({ kind: 'backoff', gen: 2, attempt: 2 });
  });

  it('a stop during backoff goes idle and the backoff timer is then ignored', () => {
    const d = new Drive(config({ onExit: 'restart' }));
    d.run(A);
    d.feed({ type: 'exited', gen: 1, exit: exit(1) });
    const epoch = d.state.epoch;
    d.feed({ type: 'stop' }, { type: 'timer', name: 'backoff', epoch });
    expect(d.phase).toEqual({ kind: 'idle', last: A });
  });

  it('a change during backoff starts at once', () => {
    const d = new Drive(config({ onExit: 'restart' }));
    d.run(A);
    d.feed({ type: 'exited', gen: 1, exit: exit(1) }, { type: 'changed', latest: B });
    expect(d.phase).toMatchObject({ kind: 'starting', gen: 2, ctx: { reason: 'change', changes: { modified: ['app.js'] } } });
  });

  it('leftovers of a child that exited are swept before the next start and on a stop', () => {
    const left = { root: { pid: 101, start: 't' }, members: [{ pid: 555, start: 'u' }] };
    const d = new Drive(config());
    d.run(A);
    d.feed({ type: 'exited', gen: 1, exit: exit(0), leftovers: left });
    d.take();
    d.feed({ type: 'changed', latest: B });
    expect(d.phase).toMatchObject({ kind: 'starting', step: 'sweep' });
    expect(d.take()).toContainEqual(expect.objectContaining({ type: 'stop', root: left.root, captured: left.members }));
    const e = new Drive(config());
    e.run(A);
    e.feed({ type: 'exited', gen: 1, exit: exit(0), leftovers: left }, { type: 'stop' });
    expect(e.phase).toMatchObject({ kind: 'stopping', reason: 'leftovers', then: { next: 'idle' } });
    e.take();
    e.feed({ type: 'stopped', gen: 1, attempt: 1, result: stopResult() });
    expect(e.phase.kind).toBe('idle');
    expect(e.events(e.take())).toEqual([]);
  });

  it('--on-exit quit ends with the exit code, 128 + N for a signal', () => {
    for (const [rec, code] of [
      [exit(3), 3],
      [exit(null, 5, 'SIGTERM'), 143],
    ] as const) {
      const d = new Drive(config({ onExit: 'quit' }));
      d.run(A);
      d.feed({ type: 'exited', gen: 1, exit: rec });
      expect(d.take()).toContainEqual({ type: 'quit', code });
    }
  });
});

describe('worker machine: tasks', () => {
  it('files passed and failed runs with the number of files changed since the last counted run', () => {
    const d = new Drive(config({ kind: 'task' }));
    d.run(A);
    d.feed({ type: 'exited', gen: 1, exit: exit(0) });
    const first = d.events(d.take());
    expect(first.find((e) => e.type === 'task-finished')).toMatchObject({ result: 'passed', changedFiles: 0 });
    expect(first.find((e) => e.type === 'ready')).toMatchObject({ how: 'started' });
    d.feed({ type: 'changed', latest: B });
    d.run(B);
    d.feed({ type: 'exited', gen: 2, exit: exit(1) });
    expect(d.events(d.take()).find((e) => e.type === 'task-finished')).toMatchObject({ result: 'failed', changedFiles: 1 });
    expect(d.state.tasks.runs.map((r) => r.result)).toEqual(['passed', 'failed']);
  });

  it('repeats a run until the code has `repeat` results, then sums them up', () => {
    const d = new Drive(config({ kind: 'task', repeat: 3 }));
    const results: string[] = [];
    for (const code of [0, 1, 0]) {
      d.run(A);
      d.feed({ type: 'exited', gen: d.gen, exit: exit(code) });
      results.push(d.phase.kind === 'starting' ? 'again' : 'stop');
    }
    expect(results).toEqual(['again', 'again', 'stop']);
    expect(d.events().find((e) => e.type === 'task-summary')).toEqual({ type: 'task-summary', worker: 'w', codeId: 'aaaa', runs: 3, failed: 1 });
    expect(d.events().filter((e) => e.type === 'worker-starting').map((e) => (e as { reason: string }).reason)).toEqual(['initial', 'repeat', 'repeat']);
  });

  it('a task stopped before it finished is filed as cancelled, never passed or failed', () => {
    const d = new Drive(config({ kind: 'task' }));
    d.run(A);
    d.feed({ type: 'stop' }, { type: 'stopped', gen: 1, attempt: 1, result: stopResult(), exit: exit(null, 20, 'SIGTERM') });
    expect(d.events().filter((e) => e.type === 'task-finished')).toMatchObject([{ result: 'cancelled', signal: 'SIGTERM' }]);
    expect(d.phase.kind).toBe('idle');
  });

  it('a run whose dependency moved before it ended is cancelled and runs again behind the gate', () => {
    const d = new Drive(config({ kind: 'task' }, { gated: true }));
    d.feed({ type: 'start', reason: 'initial' }, { type: 'depsReady', gen: 1, codes: { api: 'old' } });
    d.run(A);
    d.take();
    d.feed({ type: 'exited', gen: 1, exit: exit(1), depsNow: { ok: false, waiting: ['api'] } });
    const ev = d.events(d.take());
    // Cancelled with no stop to name: the cause is there, and empty.
    expect(ev.find((e) => e.type === 'task-finished')).toMatchObject({ result: 'cancelled', deps: { api: 'old' }, cancelledBy: {} });
    expect(d.phase).toMatchObject({ kind: 'starting', gen: 2, step: 'deps', ctx: { reason: 'dependency' } });
    d.feed({ type: 'depsReady', gen: 2, codes: { api: 'new' } });
    d.run(A);
    d.feed({ type: 'exited', gen: 2, exit: exit(0), depsNow: { ok: true, codes: { api: 'new' } } });
    expect(d.events().filter((e) => e.type === 'task-finished').at(-1)).toMatchObject({ result: 'passed', deps: { api: 'new' } });
  });

  it('a cancelled run carries why: the stop asked for and the files that made it stale, never those of another generation', () => {
    const d = new Drive(config({ kind: 'task' }));
    d.run(A);
    d.feed({ type: 'changed', latest: B });
    d.feed({ type: 'stopped', gen: 1, attempt: 1, result: stopResult(), exit: exit(null, 20, 'SIGTERM') });
    expect(d.events(d.take()).find((e) => e.type === 'task-finished')).toMatchObject({ result: 'cancelled', cancelledBy: { stop: 'change', files: ['app.js'] } });
    // The next generation knows nothing of those files: a restart asked for names no file.
    d.run(B);
    d.feed({ type: 'restart', latest: B, reason: 'manual' }, { type: 'stopped', gen: 2, attempt: 1, result: stopResult() });
    expect(d.events(d.take()).find((e) => e.type === 'task-finished')).toEqual(expect.objectContaining({ result: 'cancelled', cancelledBy: { stop: 'restart requested' } }));
    d.run(B);
    d.feed({ type: 'cachesFound', gen: 3, paths: ['/p/__pycache__/app.pyc'] }, { type: 'stopped', gen: 3, attempt: 1, result: stopResult() });
    expect(d.events(d.take()).find((e) => e.type === 'task-finished')).toMatchObject({ cancelledBy: { stop: 'caches found', files: ['__pycache__/app.pyc'] } });
    // A run that counts carries no cause.
    d.run(B);
    d.feed({ type: 'exited', gen: 4, exit: exit(0) });
    expect(d.events(d.take()).find((e) => e.type === 'task-finished')).not.toHaveProperty('cancelledBy');
  });

  it('a dependency restart cancels a running task and the next run waits at the gate', () => {
    const d = new Drive(config({ kind: 'task' }, { gated: true }));
    d.feed({ type: 'start', reason: 'initial' }, { type: 'depsReady', gen: 1, codes: { api: 'old' } });
    d.run(A);
    d.feed({ type: 'restart', latest: A, reason: 'dependency' });
    expect(d.phase).toMatchObject({ kind: 'stopping', reason: 'a dependency changed', cancelRun: true });
    d.feed({ type: 'stopped', gen: 1, attempt: 1, result: stopResult() });
    expect(d.phase).toMatchObject({ kind: 'starting', step: 'deps', ctx: { reason: 'dependency' } });
    expect(d.events().filter((e) => e.type === 'task-finished')).toMatchObject([{ result: 'cancelled' }]);
  });
});

describe('worker machine: early start', () => {
  const P = snap('aaaa', 0, { '/p/app.js': 'v1' }, true);

  it('a confirmed provisional snapshot makes the running generation fresh without a restart', () => {
    const d = new Drive(config());
    d.run(P);
    expect(d.take()).toContainEqual({ type: 'verify', snapshot: P });
    d.feed({ type: 'confirmed', provisional: P, real: A });
    expect(d.phase).toMatchObject({ kind: 'running', gen: 1, snapshot: A });
    expect(d.events(d.take())).toEqual([{ type: 'fresh', worker: 'w', generation: 1, codeId: 'aaaa' }]);
  });

  it('a refuted one leaves the generation alone (the change that follows makes it stale)', () => {
    const d = new Drive(config());
    d.run(P);
    d.take();
    d.feed({ type: 'refuted', provisional: P });
    expect(d.phase).toMatchObject({ kind: 'running', snapshot: P });
    expect(d.take()).toEqual([]);
  });

  it('a task run on a provisional snapshot is filed only once the files answer', () => {
    const confirmed = new Drive(config({ kind: 'task' }));
    confirmed.run(P);
    confirmed.feed({ type: 'exited', gen: 1, exit: exit(0) });
    expect(confirmed.events().some((e) => e.type === 'task-finished')).toBe(false);
    confirmed.feed({ type: 'confirmed', provisional: P, real: A });
    expect(confirmed.events().find((e) => e.type === 'task-finished')).toMatchObject({ result: 'passed' });
    expect(confirmed.state.tasks.runs[0]?.snapshot).toBe(A);

    const refuted = new Drive(config({ kind: 'task' }));
    refuted.run(P);
    refuted.feed({ type: 'exited', gen: 1, exit: exit(0) }, { type: 'refuted', provisional: P });
    expect(refuted.events().find((e) => e.type === 'task-finished')).toMatchObject({ result: 'cancelled' });
  });

  it('caches found after an early start restart the generation', () => {
    const d = new Drive(config());
    d.feed({ type: 'start', reason: 'initial' }, { type: 'cleared', gen: 1, env: {}, count: 0, bytes: 0, snapshot: P, searchAfter: true });
    d.feed({ type: 'spawned', gen: 1, child: child(101) });
    const arm = d.take().find((e) => e.type === 'arm');
    expect(arm).toMatchObject({ name: 'cache-search', ms: 250 });
    d.feed({ type: 'readySeen', gen: 1, how: 'log' }, { type: 'timer', name: 'cache-search', epoch: (arm as { epoch: number }).epoch });
    expect(d.take()).toContainEqual({ type: 'searchCaches', gen: 1 });
    d.feed({ type: 'cachesFound', gen: 1, paths: ['/p/__pycache__/app.pyc'] });
    expect(d.phase).toMatchObject({ kind: 'stopping', then: { next: 'start', ctx: { reason: 'caches' } } });
  });
});

describe('worker machine: one-shot commands under run', () => {
  it('a command that exits by itself without a ready signal of its own becomes one-shot; one that signals is not', () => {
    const d = new Drive(config({ exitIsResult: true }));
    d.run(A);
    d.feed({ type: 'exited', gen: 1, exit: exit(0) });
    expect(d.state.oneShot).toBe(true);
    expect(d.events().find((e) => e.type === 'task-finished')).toMatchObject({ result: 'passed' });
    d.feed({ type: 'changed', latest: B });
    d.run(B);
    // Stopped while running: as a one-shot its run is cancelled.
    d.feed({ type: 'restart', latest: B, reason: 'manual' });
    expect(d.phase).toMatchObject({ kind: 'stopping', cancelRun: true });

    const s = new Drive(config({ exitIsResult: true, ready: { log: /up/ } }));
    s.run(A);
    s.feed({ type: 'exited', gen: 1, exit: exit(1) });
    expect(s.state.oneShot).toBe(true);
    s.feed({ type: 'changed', latest: B });
    s.run(B);
    s.feed({ type: 'readySeen', gen: 2, how: 'log' });
    expect(s.state.oneShot).toBe(false);
  });
});

describe('worker machine: every pair applies or is ignored', () => {
  const commands: Input[] = [
    { type: 'start', reason: 'manual' },
    { type: 'changed', latest: C },
    { type: 'restart', latest: C, reason: 'manual' },
    { type: 'stop' },
    { type: 'shutdown' },
    { type: 'timer', name: 'backoff', epoch: 0 },
    { type: 'exited', gen: 1, exit: exit(0) },
    { type: 'stopped', gen: 1, attempt: 1, result: stopResult() },
    { type: 'stopFailed', gen: 1, attempt: 1, message: 'x' },
    { type: 'readySeen', gen: 1, how: 'port' },
    { type: 'spawned', gen: 1, child: child(5) },
  ];
  function phases(): MachineState[] {
    const out: MachineState[] = [INITIAL];
    const d = new Drive(config({ onExit: 'restart' }));
    d.feed({ type: 'start', reason: 'initial' });
    out.push(d.state);
    d.run(A);
    out.push(d.state);
    d.feed({ type: 'exited', gen: 1, exit: exit(1) });
    out.push(d.state);
    const e = new Drive(config());
    e.run(A);
    e.feed({ type: 'restart', latest: A, reason: 'manual' });
    out.push(e.state);
    return out;
  }

  it('never throws, and done stays done', () => {
    for (const s of phases()) {
      for (const input of commands) {
        expect(() => step(config({ onExit: 'restart' }), s, input, 0)).not.toThrow();
      }
    }
    const done: MachineState = { ...INITIAL, phase: { kind: 'done' } };
    for (const input of commands) {
      const r = step(config(), done, input, 0);
      expect(r.next.phase.kind).toBe('done');
      expect(r.effects.filter((e) => e.type === 'spawn' || e.type === 'clear')).toEqual([]);
    }
  });

  it('a child spawned for a start nobody waits for any more is stopped, never kept', () => {
    const r = step(config(), INITIAL, { type: 'spawned', gen: 4, child: child(44) }, 0);
    expect(r.effects).toContainEqual(expect.objectContaining({ type: 'stop', root: { pid: 44, start: 't44' } }));
  });
});
