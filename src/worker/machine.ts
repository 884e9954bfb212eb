import { assertNever, type CancelCause, type DevsupEvent, type Listeners, type RestartContext, type StartReason } from '../core/events.js';
import type { ExitRecord } from '../process/types.js';
import { diffSnapshots, isEmptyChange, type Snapshot } from '../watch/snapshot.js';
import { backoffDelay } from './backoff.js';
import { relativeChanges } from './paths.js';
import type { Child } from './port.js';
import type { ReadyHow } from './readiness.js';
import type { WorkerSpec } from './spec.js';
import {
  exitCodeOf,
  runsAsTask,
  spawnFailureCode,
  spawnSnapshot,
  type AfterStop,
  type DepCheck,
  type Effect,
  type Input,
  type Leftovers,
  type MachineConfig,
  type MachineState,
  type Phase,
  type TimerName,
} from './states.js';
import { fileRun, repeatDue, type DepCodes } from './tasks.js';

export * from './states.js';

/**
 * The worker lifecycle as one pure function: `step(config, state, input, now)` returns the next
 * state and the effects to run. Nothing here touches a process, a file or a clock; the runner does,
 * and turns what happens back into inputs. Pairs that do not apply leave the state as it is.
 */

export interface Step {
  next: MachineState;
  effects: Effect[];
}

/** After an early start, how long the checks that were put off wait (see worker.ts). */
export const BOOT_HEAD_START_MS = 250;
/** Stop attempts that throw (e.g. EMFILE reading /proc) before the machine gives up on confirming. */
export const STOP_ATTEMPTS = 4;
const STOP_RETRY_BASE_MS = 100;
/** Beyond grace + SIGKILL wait + exit record, a stop that has not answered is treated as failed. */
const STOP_WATCHDOG_SLACK_MS = 8000;
export function step(cfg: MachineConfig, s: MachineState, input: Input, now: number): Step {
  const t = new Transition(cfg, s, now);
  t.apply(input);
  return { next: t.state, effects: t.effects };
}

/** One transition being built: the state so far and the effects collected. */
class Transition {
  readonly effects: Effect[] = [];

  constructor(
    private readonly cfg: MachineConfig,
    public state: MachineState,
    private readonly now: number,
  ) {}

  private get spec(): WorkerSpec {
    return this.cfg.spec;
  }

  private get watchdogMs(): number {
    return this.spec.graceMs + (this.cfg.stopSlackMs ?? STOP_WATCHDOG_SLACK_MS);
  }

  private get name(): string {
    return this.cfg.spec.name;
  }

  /** A new phase: bumps the epoch, so timers of the old one are ignored. */
  private to(phase: Phase, extra: Partial<MachineState> = {}): void {
    this.state = { ...this.state, ...extra, phase, epoch: this.state.epoch + 1 };
  }

  /** The same phase with data updated (readiness, a stale mark): timers stay valid. */
  private patch(phase: Phase, extra: Partial<MachineState> = {}): void {
    this.state = { ...this.state, ...extra, phase };
  }

  private emit(event: DevsupEvent): void {
    this.effects.push({ type: 'emit', event });
  }

  private arm(name: TimerName, ms: number): void {
    this.effects.push({ type: 'arm', name, ms, epoch: this.state.epoch });
  }

  private ignored(input: Input): void {
    // Pairs that do not apply leave the state as it is; nothing to tell the views.
    void input;
  }

  apply(input: Input): void {
    const p = this.state.phase;
    switch (input.type) {
      case 'start':
        return this.onStart(p, input.reason);
      case 'changed':
        return this.onChanged(p, input.latest);
      case 'restart':
        return this.onRestart(p, input.latest, input.reason);
      case 'stop':
        return this.onStop(p, 'idle');
      case 'shutdown':
        return this.onStop(p, 'done');
      case 'depsReady':
        // The time spent waiting for dependencies is not the start's own: spawnMs counts from here.
        if (p.kind === 'starting' && p.gen === input.gen && p.step === 'deps') return this.begin({ ...p, deps: input.codes, t0: this.now, waitingFor: undefined });
        return this.ignored(input);
      case 'depsWaiting':
        if (p.kind === 'starting' && p.gen === input.gen && p.step === 'deps') return this.patch({ ...p, waitingFor: input.waiting });
        return this.ignored(input);
      case 'cleared':
        return this.onCleared(p, input);
      case 'spawned':
        return this.onSpawned(p, input.gen, input.child);
      case 'spawnFailed':
        return this.onSpawnFailed(p, input);
      case 'readySeen':
        return this.onReady(p, input.gen, input.how, input.ports, input.listening);
      case 'readyTimedOut':
        if (p.kind === 'running' && p.gen === input.gen) this.emit({ type: 'warning', worker: this.name, message: input.message });
        return;
      case 'exited':
        return this.onExited(p, input);
      case 'stopped':
        return this.onStopped(p, input);
      case 'stopFailed':
        if (p.kind === 'stopping' && p.gen === input.gen && p.attempt === input.attempt) return this.stopFailed(p, input.message);
        if (p.kind === 'starting' && p.gen === input.gen && p.step === 'sweep') {
          this.emit({ type: 'warning', worker: this.name, message: `could not stop what the last run left behind: ${input.message}` });
          return this.afterSweep(p);
        }
        return this.ignored(input);
      case 'confirmed':
        return this.onConfirmed(p, input.provisional, input.real);
      case 'refuted':
        if (p.kind === 'exited' && p.unfiled && p.snapshot === input.provisional) return this.settleExit(p, p.exit, 'cancelled', p.snapshot, p.unfiled.deps, true);
        return this.ignored(input);
      case 'cachesFound':
        if (p.kind !== 'running' || p.gen !== input.gen) return this.ignored(input);
        return this.cachesFound(p, input.paths);
      case 'timer':
        if (input.epoch !== this.state.epoch) return this.ignored(input);
        return this.onTimer(p, input.name);
      default:
        return assertNever(input);
    }
  }

  // Commands

  private onStart(p: Phase, reason: StartReason): void {
    switch (p.kind) {
      case 'running':
      case 'starting':
      case 'done':
        return;
      case 'stopping':
        if (p.then.next === 'idle') this.patch({ ...p, then: { next: 'start', ctx: { reason } } });
        return;
      case 'idle':
      case 'backoff':
      case 'exited':
      case 'start-failed':
        return this.launch(p, { reason });
      default:
        return assertNever(p);
    }
  }

  private onChanged(p: Phase, latest: Snapshot): void {
    switch (p.kind) {
      case 'starting':
        // The child is spawned on the snapshot taken after clearing; a change seen before that is
        // in it, one seen later makes the new generation stale as soon as it runs.
        this.patch({ ...p, changedDuring: latest });
        return;
      case 'idle':
      case 'stopping':
      case 'done':
        return;
      case 'running': {
        const rel = this.changesSince(p.snapshot, latest);
        if (!rel) return;
        const files = [...rel.modified, ...rel.added, ...rel.removed];
        const marked = { ...p, staleSince: p.staleSince ?? this.now, staleFiles: files };
        this.patch(marked);
        this.emit({ type: 'stale', worker: this.name, generation: p.gen, files, restarting: this.spec.restartOnChange });
        if (!this.spec.restartOnChange) return;
        return this.beginStop(marked, 'change', { next: 'start', ctx: { reason: 'change', changes: rel } });
      }
      case 'backoff':
      case 'exited':
      case 'start-failed': {
        const base = p.snapshot;
        const rel = base ? this.changesSince(base, latest) : undefined;
        if (base && !rel) return;
        if (!this.spec.restartOnChange && p.kind !== 'start-failed') return;
        return this.launch(p, { reason: 'change', changes: rel });
      }
      default:
        return assertNever(p);
    }
  }

  private changesSince(base: Snapshot, latest: Snapshot): RestartContext['changes'] {
    if (latest.codeId === base.codeId) return undefined;
    const changes = diffSnapshots(base, latest);
    return isEmptyChange(changes) ? undefined : relativeChanges(changes, this.spec.cwd);
  }

  private onRestart(p: Phase, latest: Snapshot, why: 'manual' | 'dependency'): void {
    switch (p.kind) {
      case 'done':
        return;
      case 'starting':
        // Not spawned yet and still waiting for what it depends on: the start to come is the restart.
        if (p.step !== 'deps') this.patch({ ...p, restartAfter: why });
        return;
      case 'stopping':
        if (p.then.next !== 'done') this.patch({ ...p, then: { next: 'start', ctx: { reason: why, changes: this.changesSince(p.snapshot, latest) } } });
        return;
      case 'running':
        return this.beginStop(p, why === 'manual' ? 'restart requested' : 'a dependency changed', {
          next: 'start',
          ctx: { reason: why, changes: this.changesSince(p.snapshot, latest) },
        });
      case 'idle':
      case 'backoff':
      case 'exited':
      case 'start-failed': {
        const base = spawnSnapshot(p);
        return this.launch(p, { reason: why, changes: base ? this.changesSince(base, latest) : undefined });
      }
      default:
        return assertNever(p);
    }
  }

  private onStop(p: Phase, end: 'idle' | 'done'): void {
    const reason = end === 'done' ? 'shutting down' : 'stop requested';
    switch (p.kind) {
      case 'done':
        return;
      case 'running':
        return this.beginStop(p, reason, { next: end });
      case 'starting':
        // Nothing is spawned before the spawn step: a cache search or clear command still running
        // (or hung) must not hold up a stop; its result is ignored when it comes.
        if (p.step === 'deps' || p.step === 'clear') return this.to(end === 'done' ? { kind: 'done' } : { kind: 'idle', last: p.last });
        this.patch({ ...p, cancel: p.cancel === 'done' ? 'done' : end });
        return;
      case 'stopping':
        if (p.then.next !== 'done') this.patch({ ...p, then: { next: end } });
        return;
      case 'backoff':
      case 'exited':
        if (p.leftovers) return this.sweep(p.gen, p.snapshot, p.leftovers, { next: end });
        return this.to(end === 'done' ? { kind: 'done' } : { kind: 'idle', last: p.snapshot });
      case 'idle':
      case 'start-failed':
        return this.to(end === 'done' ? { kind: 'done' } : { kind: 'idle', last: spawnSnapshot(p) });
      default:
        return assertNever(p);
    }
  }

  // Starting

  private launch(prev: Phase, ctx: RestartContext): void {
    const gen = this.state.gen + 1;
    const restarts = this.state.restarts + (ctx.reason === 'initial' ? 0 : 1);
    const leftovers = prev.kind === 'exited' || prev.kind === 'backoff' ? prev.leftovers : undefined;
    const phase: Phase = { kind: 'starting', gen, step: 'deps', ctx, t0: this.now, last: spawnSnapshot(prev), leftovers };
    this.to(phase, { gen, restarts });
    if (this.cfg.gated) {
      this.effects.push({ type: 'gate', gen });
      return;
    }
    this.begin(phase);
  }

  /** Past the dependencies: tell the views, then sweep leftovers or clear caches. */
  private begin(p: Extract<Phase, { kind: 'starting' }>): void {
    this.emit({ type: 'worker-starting', worker: this.name, generation: p.gen, reason: p.ctx.reason });
    if (p.leftovers) {
      this.to({ ...p, step: 'sweep' });
      this.effects.push({ type: 'stop', gen: p.gen, attempt: 0, root: p.leftovers.root, captured: p.leftovers.members });
      this.arm('stop-watchdog', this.watchdogMs);
      return;
    }
    this.toClear(p);
  }

  private toClear(p: Extract<Phase, { kind: 'starting' }>): void {
    this.to({ ...p, step: 'clear', leftovers: undefined });
    this.effects.push({ type: 'clear', gen: p.gen });
  }

  private afterSweep(p: Extract<Phase, { kind: 'starting' }>): void {
    if (p.cancel) return this.to(p.cancel === 'done' ? { kind: 'done' } : { kind: 'idle', last: p.last });
    this.toClear(p);
  }

  private onCleared(p: Phase, input: Extract<Input, { type: 'cleared' }>): void {
    if (p.kind !== 'starting' || p.gen !== input.gen || p.step !== 'clear') return this.ignored(input);
    if (input.error) this.emit({ type: 'warning', worker: this.name, message: `preparing the start: ${input.error}` });
    if (p.cancel) return this.to(p.cancel === 'done' ? { kind: 'done' } : { kind: 'idle', last: p.last });
    const snapshot = input.snapshot;
    this.to({ ...p, step: 'spawn', snapshot, startedAt: this.now, searchAfter: input.searchAfter, cleared: { count: input.count, bytes: input.bytes }, changedDuring: undefined });
    const env: Record<string, string | undefined> = {
      ...this.spec.env,
      ...input.env,
      DEVSUP: '1',
      DEVSUP_GENERATION: String(p.gen),
      DEVSUP_STARTED_AT: new Date(this.now).toISOString(),
      DEVSUP_CODE_ID: snapshot.codeId,
    };
    this.effects.push({ type: 'spawn', gen: p.gen, env });
  }

  private onSpawned(p: Phase, gen: number, child: Child): void {
    if (p.kind !== 'starting' || p.gen !== gen || p.step !== 'spawn' || !p.snapshot) {
      // A child nobody waits for any more (cannot happen through the runner): never leave it running.
      this.effects.push({ type: 'stop', gen, attempt: -1, root: child.id, child });
      return;
    }
    const snapshot = p.snapshot;
    const startedAt = p.startedAt ?? this.now;
    const task = this.spec.kind === 'task';
    const ready = !task && this.cfg.readyAtSpawn;
    const running: Extract<Phase, { kind: 'running' }> = {
      kind: 'running',
      gen,
      pid: child.pid,
      startedAt,
      snapshot,
      child,
      ready,
      signalled: false,
      staleSince: null,
      deps: p.deps,
    };
    this.to(running);
    this.effects.push({ type: 'attach', gen, child });
    if (snapshot.provisional) this.effects.push({ type: 'verify', snapshot });
    if (p.searchAfter) this.arm('cache-search', BOOT_HEAD_START_MS);
    const cleared = p.cleared && p.cleared.count > 0 ? p.cleared : undefined;
    this.emit({
      type: 'worker-started',
      worker: this.name,
      generation: gen,
      pid: child.pid,
      codeId: snapshot.codeId,
      startedAt: new Date(startedAt).toISOString(),
      spawnMs: Math.max(0, Math.round(this.now - p.t0)),
      restart: { ...p.ctx, cleared },
      ...(snapshot.provisional ? { provisional: true as const } : {}),
    });
    this.effects.push({ type: 'watch', gen, child });
    if (ready) this.emit({ type: 'ready', worker: this.name, generation: gen, how: 'started' });
    else if (!task) this.effects.push({ type: 'probeReady', gen, child });
    // What was asked while the child was being started applies now, in order of strength.
    if (p.cancel) return this.beginStop(running, p.cancel === 'done' ? 'shutting down' : 'stop requested', { next: p.cancel });
    if (p.restartAfter) {
      return this.beginStop(running, p.restartAfter === 'manual' ? 'restart requested' : 'a dependency changed', {
        next: 'start',
        ctx: { reason: p.restartAfter },
      });
    }
    if (p.changedDuring) this.onChanged(running, p.changedDuring);
  }

  private onSpawnFailed(p: Phase, input: Extract<Input, { type: 'spawnFailed' }>): void {
    if (p.kind !== 'starting' || p.gen !== input.gen || p.step !== 'spawn') return this.ignored(input);
    this.to({ kind: 'start-failed', gen: p.gen, message: input.message, snapshot: p.snapshot });
    if (p.cancel) return this.to(p.cancel === 'done' ? { kind: 'done' } : { kind: 'idle', last: p.snapshot });
    if (this.spec.onExit === 'quit') {
      const code = spawnFailureCode(input.reason);
      this.emit({ type: 'spawn-failed', worker: this.name, generation: p.gen, message: input.message, exitCode: code });
      this.effects.push({ type: 'quit', code });
      return;
    }
    this.emit({ type: 'spawn-failed', worker: this.name, generation: p.gen, message: input.message });
    this.emit({ type: 'waiting', worker: this.name, for: 'change' });
  }

  // Running

  private onReady(p: Phase, gen: number, how: ReadyHow, ports?: number[], listening?: Listeners): void {
    if (p.kind !== 'running' || p.gen !== gen || p.ready) return;
    const signalled = how !== 'started';
    // A command that shows it serves is no one-shot, whatever an earlier generation did.
    this.patch({ ...p, ready: true, signalled, ports }, signalled ? { oneShot: false } : {});
    this.emit({
      type: 'ready',
      worker: this.name,
      generation: gen,
      how,
      ...(ports && ports.length > 0 ? { ports: [...ports] } : {}),
      ...(listening && listening.tcp.length + listening.unix.length > 0 ? { listening } : {}),
    });
  }

  private onConfirmed(p: Phase, provisional: Snapshot, real: Snapshot): void {
    if (!provisional.unknown && real.codeId !== provisional.codeId) return;
    if (spawnSnapshot(p) !== provisional) return;
    switch (p.kind) {
      case 'running':
      case 'stopping':
      case 'backoff':
        // The same generation on the same code, now known by its files: not a transition.
        this.patch({ ...p, snapshot: real });
        break;
      case 'exited':
        this.patch({ ...p, snapshot: real });
        break;
      case 'idle':
        this.patch({ ...p, last: real });
        break;
      case 'starting':
        this.patch(p.snapshot === provisional ? { ...p, snapshot: real } : { ...p, last: real });
        break;
      case 'start-failed':
        this.patch({ ...p, snapshot: real });
        break;
      case 'done':
        return;
      default:
        return assertNever(p);
    }
    this.emit({ type: 'fresh', worker: this.name, generation: this.state.gen, codeId: real.codeId });
    const q = this.state.phase;
    if (q.kind === 'exited' && q.unfiled) this.settleExit(q, q.exit, q.exit.code === 0 ? 'passed' : 'failed', real, q.unfiled.deps, q.unfiled.depsHeld);
  }

  private cachesFound(p: Extract<Phase, { kind: 'running' }>, paths: string[]): void {
    const rel = relativeChanges({ added: [], modified: paths, removed: [] }, this.spec.cwd);
    this.emit({ type: 'stale', worker: this.name, generation: p.gen, files: rel.modified, restarting: true });
    this.beginStop({ ...p, staleFiles: rel.modified }, 'caches found', { next: 'start', ctx: { reason: 'caches' } });
  }

  private onExited(p: Phase, input: Extract<Input, { type: 'exited' }>): void {
    if (p.kind === 'stopping' && p.gen === input.gen && p.child) {
      this.patch({ ...p, exit: input.exit });
      return;
    }
    if (p.kind !== 'running' || p.gen !== input.gen) return this.ignored(input);
    const exit = input.exit;
    // Seen to end by itself without ever signalling readiness: a one-shot command under `run`.
    const oneShot = this.spec.exitIsResult === true ? !p.signalled : this.state.oneShot;
    this.to({ kind: 'exited', gen: p.gen, exit, snapshot: p.snapshot, leftovers: input.leftovers }, { lastExit: exit, oneShot });
    this.effects.push({ type: 'cancelReady', gen: p.gen });
    this.emit({ type: 'exited', worker: this.name, generation: p.gen, code: exit.code, signal: exit.signal, durationMs: exit.durationMs });
    const depsHeld = depsStillHeld(p.deps, input.depsNow);
    if (this.spec.kind !== 'task' && !this.spec.exitIsResult) return this.afterExit(exit);
    if (p.snapshot.provisional) {
      // The run's code is known once the files are compared with what it started on.
      this.patch({ ...(this.state.phase as Extract<Phase, { kind: 'exited' }>), unfiled: { deps: p.deps, depsHeld } });
      return;
    }
    this.settleExit(this.state.phase as Extract<Phase, { kind: 'exited' }>, exit, exit.code === 0 ? 'passed' : 'failed', p.snapshot, p.deps, depsHeld);
  }

  /**
   * Files a finished run. A run whose dependencies stopped being ready on the code it began with
   * is cancelled and runs again: its result would be about code that is no longer there.
   */
  private settleExit(
    p: Extract<Phase, { kind: 'exited' }>,
    exit: ExitRecord,
    outcome: 'passed' | 'failed' | 'cancelled',
    snapshot: Snapshot,
    deps: DepCodes | undefined,
    depsHeld: boolean,
  ): void {
    const result = depsHeld ? outcome : 'cancelled';
    this.patch({ ...p, snapshot, unfiled: undefined });
    this.fileRun(p.gen, exit, result, snapshot, deps);
    if (!depsHeld) return this.launch(this.state.phase, { reason: 'dependency' });
    if (this.spec.kind === 'task' && result !== 'cancelled') {
      const due = repeatDue(this.state.tasks, snapshot.codeId, this.spec.repeat ?? 1);
      if (due.summary) this.emit({ type: 'task-summary', worker: this.name, codeId: snapshot.codeId, ...due.summary });
      if (due.again) return this.launch(this.state.phase, { reason: 'repeat' });
    }
    this.afterExit(exit);
  }

  private fileRun(
    gen: number,
    exit: ExitRecord,
    result: 'passed' | 'failed' | 'cancelled',
    snapshot: Snapshot,
    deps: DepCodes | undefined,
    cancelledBy: CancelCause = {},
  ): void {
    const keep = Math.max(50, (this.spec.repeat ?? 1) * 2);
    const run = { generation: gen, snapshot, result, code: exit.code, durationMs: exit.durationMs, deps };
    const { book, event } = fileRun(this.state.tasks, this.name, run, exit, keep, result === 'cancelled' ? cancelledBy : undefined);
    this.state = { ...this.state, tasks: book };
    this.emit(event);
    if (result === 'passed' && this.spec.kind === 'task') this.emit({ type: 'ready', worker: this.name, generation: gen, how: 'started' });
  }

  /** What the policy says once a child has ended by itself and its result is filed. */
  private afterExit(exit: ExitRecord): void {
    const p = this.state.phase;
    if (p.kind !== 'exited') return;
    if (this.spec.onExit === 'quit') {
      this.effects.push({ type: 'quit', code: exitCodeOf(exit) });
      return;
    }
    if (this.spec.onExit === 'restart' && this.spec.kind === 'service') {
      const { attempt, delayMs } = backoffDelay(this.state.crashes, exit.durationMs);
      this.to({ kind: 'backoff', gen: p.gen, attempt, until: this.now + delayMs, snapshot: p.snapshot, leftovers: p.leftovers }, { crashes: attempt });
      this.emit({ type: 'backoff', worker: this.name, attempt, delayMs });
      this.arm('backoff', delayMs);
      return;
    }
    this.emit({ type: 'waiting', worker: this.name, for: 'change' });
  }

  // Stopping

  private beginStop(p: Extract<Phase, { kind: 'running' }>, reason: string, then: AfterStop): void {
    const cancelRun = runsAsTask(this.cfg, this.state);
    this.to({ kind: 'stopping', gen: p.gen, pid: p.pid, reason, snapshot: p.snapshot, root: p.child.id, child: p.child, then, attempt: 1, cancelRun, staleFiles: p.staleFiles, deps: p.deps });
    this.effects.push({ type: 'cancelReady', gen: p.gen });
    this.emit({ type: 'stopping', worker: this.name, generation: p.gen, pid: p.pid, reason, signal: this.spec.signal });
    this.issueStop();
  }

  /** Leftovers of a child that ended by itself, stopped quietly before idling or quitting. */
  private sweep(gen: number, snapshot: Snapshot, left: Leftovers, then: AfterStop): void {
    this.to({ kind: 'stopping', gen, pid: left.root.pid, reason: 'leftovers', snapshot, root: left.root, captured: left.members, then, attempt: 1, cancelRun: false });
    this.issueStop();
  }

  private issueStop(): void {
    const p = this.state.phase;
    if (p.kind !== 'stopping') return;
    this.effects.push({ type: 'stop', gen: p.gen, attempt: p.attempt, root: p.root, child: p.child, captured: p.captured });
    this.arm('stop-watchdog', this.watchdogMs);
  }

  private onStopped(p: Phase, input: Extract<Input, { type: 'stopped' }>): void {
    if (p.kind === 'starting' && p.gen === input.gen && p.step === 'sweep') return this.afterSweep(p);
    if (p.kind !== 'stopping' || p.gen !== input.gen || p.attempt !== input.attempt) return this.ignored(input);
    const res = input.result;
    const how = res.gaveUp ? 'gave-up' : res.forced ? 'killed' : res.treeSize === 0 ? 'already-exited' : 'signal';
    if (res.survivors.length > 0) {
      this.emit({ type: 'warning', worker: this.name, message: `${res.survivors.length} process(es) survived SIGKILL: ${res.survivors.map((x) => x.pid).join(', ')}` });
    }
    this.finishStop(p, how, Math.round(res.durationMs), res.treeSize, res.survivors.length, input.exit);
  }

  private stopFailed(p: Extract<Phase, { kind: 'stopping' }>, message: string): void {
    // Without /proc the tree cannot be walked, but the group can still be killed outright.
    if (p.child) this.effects.push({ type: 'killGroup', pid: p.pid, child: p.child });
    // Quitting waits for one more look only: the group is already killed, and Ctrl-C must end.
    if (p.attempt < (p.then.next === 'done' ? 2 : STOP_ATTEMPTS)) {
      const delay = STOP_RETRY_BASE_MS * 2 ** (p.attempt - 1);
      this.emit({ type: 'warning', worker: this.name, message: `stopping generation ${p.gen} failed (${message}); its process group was killed, checking again in ${delay} ms` });
      this.to({ ...p, attempt: p.attempt + 1 });
      this.arm('stop-retry', delay);
      return;
    }
    this.emit({
      type: 'warning',
      worker: this.name,
      message: `could not confirm that generation ${p.gen} stopped (${message}); pid ${p.pid} and its group were sent SIGKILL, moving on`,
    });
    this.finishStop(p, 'gave-up', 0, 0, 1, p.exit);
  }

  private finishStop(
    p: Extract<Phase, { kind: 'stopping' }>,
    how: 'signal' | 'killed' | 'gave-up' | 'already-exited',
    ms: number,
    treeSize: number,
    survivors: number,
    exitIn?: ExitRecord,
  ): void {
    if (p.child) {
      const exit = exitIn ?? p.exit ?? { code: null, signal: 'SIGKILL', durationMs: 0 };
      this.state = { ...this.state, lastExit: exit };
      this.emit({ type: 'stopped', worker: this.name, generation: p.gen, how, durationMs: ms, treeSize, survivors });
      if (p.cancelRun) this.fileRun(p.gen, exit, 'cancelled', p.snapshot, p.deps, { stop: p.reason, ...(p.staleFiles ? { files: [...p.staleFiles] } : {}) });
    }
    const then = p.then;
    switch (then.next) {
      case 'start':
        return this.launch(p, { ...then.ctx, stopMs: p.child ? ms : then.ctx.stopMs });
      case 'idle':
        return this.to({ kind: 'idle', last: p.snapshot });
      case 'done':
        return this.to({ kind: 'done' });
      default:
        return assertNever(then);
    }
  }

  private onTimer(p: Phase, name: TimerName): void {
    switch (name) {
      case 'backoff':
        if (p.kind === 'backoff') this.launch(p, { reason: 'crash' });
        return;
      case 'stop-retry':
        if (p.kind === 'stopping') this.issueStop();
        return;
      case 'stop-watchdog':
        if (p.kind === 'stopping') this.stopFailed(p, `no answer within ${this.watchdogMs} ms`);
        if (p.kind === 'starting' && p.step === 'sweep') {
          this.emit({ type: 'warning', worker: this.name, message: `could not stop what the last run left behind: no answer within ${this.watchdogMs} ms` });
          this.afterSweep(p);
        }
        return;
      case 'cache-search':
        if (p.kind === 'running') this.effects.push({ type: 'searchCaches', gen: p.gen });
        return;
      default:
        return assertNever(name);
    }
  }
}

/** Whether every dependency a run began with is still ready on the same code. */
export function depsStillHeld(began: DepCodes | undefined, now: DepCheck | undefined): boolean {
  if (!began || !now) return true;
  if (!now.ok) return false;
  return Object.entries(began).every(([name, code]) => now.codes[name] === code);
}
