import type { Bus } from '../core/bus.js';
import { readEnvFiles } from '../config/env-file.js';
import { errorMessage } from '../core/errors.js';
import { within } from '../core/within.js';
import { SavedSearch, searchMemoPath } from '../caches/saved-search.js';
import { outputEnded, readLines } from '../process/lines.js';
import { SpawnError } from '../process/spawn.js';
import type { ExitRecord } from '../process/types.js';
import type { Snapshot } from '../watch/snapshot.js';
import { cachesLeft, clearForStart, searchesCaches } from './clear-step.js';
import { verifyProvisional } from './early-start.js';
import { INITIAL, isResting, step, type DepCheck, type Effect, type Input, type MachineConfig, type MachineState, type TimerName } from './machine.js';
import type { Child, ProcessPort } from './port.js';
import { probeFor, type ReadinessProbe } from './readiness.js';
import { realPort } from './real-port.js';
import type { WorkerSpec } from './spec.js';

export interface RunnerHooks {
  /** The latest settled snapshot of the worker's tree. */
  latest(): Snapshot;
  /**
   * Resolves once the tree has finished looking at the changes settled so far: a start takes its
   * snapshot after that, so a restart may begin (stop the old tree) on the first change found.
   */
  settled?(): Promise<void>;
  /**
   * The tree's first snapshot taken from the files themselves. A generation started early, on the
   * provisional snapshot the previous run saved, is fresh once this has the same code id.
   */
  verified?(): Promise<Snapshot>;
  /** `onExit: quit`: the supervisor should end with this code. */
  onQuit?(code: number): void;
  onChild?(child: Child, gen: number): void;
  /** A line of child output (only with `output: 'pipe'`). */
  onOutput?(gen: number, stream: 'stdout' | 'stderr', line: string): void;
  /** Every line of the generation's output has been told (see the `output-ended` event); only with `output: 'pipe'`. */
  onOutputEnded?(gen: number): void;
  /** Whether what the worker depends on is ready on the code on disk now (workers with dependencies). */
  deps?(): DepCheck;
}

export interface RunnerOptions {
  port?: ProcessPort;
  /** Replaces the probe chosen from the spec (null: ready once spawned). */
  probe?: ReadinessProbe | null;
  /** The probe for a service without configured readiness (see probeFor). */
  unconfiguredProbe?: ReadinessProbe;
  /** How long a stopped child's exit record may lag behind its tree being gone. */
  exitLagMs?: number;
  /** See MachineConfig.stopSlackMs. */
  stopSlackMs?: number;
}

/**
 * The only impure part of a worker: applies one input at a time to the machine, runs the effects it
 * returns through the process port, and turns what they produce back into inputs. Commands resolve
 * once the worker rests again (nothing starting or stopping), so `restart` over the socket returns
 * exactly when it is done.
 */
export class Runner {
  private machine: MachineState = INITIAL;
  private readonly cfg: MachineConfig;
  private readonly port: ProcessPort;
  private readonly probe: ReadinessProbe | undefined;
  private readonly exitLagMs: number;
  private readonly inbox: Input[] = [];
  private busy = false;
  private waiters: (() => void)[] = [];
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private readonly probes = new Map<number, AbortController>();
  private readonly taps = new Map<number, Set<(line: string) => void>>();
  /** Children whose exit has been seen: their pid (and group id) may belong to someone else now. */
  private readonly reaped = new WeakSet<Child>();
  private gateGen: number | undefined;
  /** The cache search before each start re-reads only directories whose entries changed. */
  private readonly cacheSearch: SavedSearch;

  constructor(
    readonly spec: WorkerSpec,
    private readonly bus: Bus,
    private readonly hooks: RunnerHooks,
    opts: RunnerOptions & { gated?: boolean } = {},
  ) {
    this.port = opts.port ?? realPort;
    this.probe = opts.probe === null ? undefined : (opts.probe ?? probeFor(spec, opts.unconfiguredProbe));
    this.exitLagMs = opts.exitLagMs ?? 1000;
    this.machine = { ...INITIAL, oneShot: spec.exitIsResult === true && spec.oneShot === true };
    this.cfg = { spec, gated: opts.gated ?? false, readyAtSpawn: this.probe === undefined, stopSlackMs: opts.stopSlackMs };
    const c = spec.clear;
    this.cacheSearch = new SavedSearch(searchesCaches(c) ? searchMemoPath(spec.stateDir, c.roots, c.presets, c.globs) : undefined);
  }

  get state(): MachineState {
    return this.machine;
  }

  get config(): MachineConfig {
    return this.cfg;
  }

  /** Applies a command and resolves once the worker rests again. */
  command(input: Input): Promise<void> {
    const rested = new Promise<void>((resolve) => this.waiters.push(resolve));
    this.dispatch(input);
    return rested;
  }

  /**
   * Something a dependency did may open the gate of a start waiting for it. Looked at once the
   * event that told it has reached every view, so the views see the dependency ready first.
   */
  depsChanged(): void {
    if (this.gateGen !== undefined) queueMicrotask(() => this.checkGate());
  }

  /** Applies inputs in arrival order; one that arrives while another is applied waits its turn. */
  dispatch(input: Input): void {
    this.inbox.push(input);
    if (this.busy) return;
    this.busy = true;
    try {
      for (let next = this.inbox.shift(); next; next = this.inbox.shift()) {
        const { next: state, effects } = step(this.cfg, this.machine, next, Date.now());
        this.machine = state;
        for (const e of effects) this.runSafely(e);
        if (state.phase.kind === 'done') this.release();
      }
    } finally {
      this.busy = false;
    }
    if (isResting(this.machine.phase)) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const w of waiters) w();
    }
  }

  private runSafely(e: Effect): void {
    try {
      this.run(e);
    } catch (err) {
      this.bus.emit({ type: 'warning', worker: this.spec.name, message: `internal error (${e.type}): ${errorMessage(err)}` });
    }
  }

  private run(e: Effect): void {
    switch (e.type) {
      case 'emit':
        this.bus.emit(e.event);
        return;
      case 'gate':
        this.gateGen = e.gen;
        queueMicrotask(() => this.checkGate());
        return;
      case 'clear':
        this.clear(e.gen);
        return;
      case 'spawn':
        this.spawn(e.gen, e.env);
        return;
      case 'attach':
        this.hooks.onChild?.(e.child, e.gen);
        return;
      case 'watch':
        this.watch(e.gen, e.child);
        return;
      case 'probeReady':
        this.probeReady(e.gen, e.child);
        return;
      case 'cancelReady':
        this.probes.get(e.gen)?.abort();
        this.probes.delete(e.gen);
        return;
      case 'verify':
        if (!this.hooks.verified) return;
        void verifyProvisional(e.snapshot, this.hooks.verified).then((input) => this.dispatch(input));
        return;
      case 'stop':
        this.stop(e);
        return;
      case 'killGroup':
        if (!this.reaped.has(e.child)) this.port.killGroup(e.pid);
        return;
      case 'searchCaches':
        void cachesLeft(this.spec, this.cacheSearch).then(
          (paths) => {
            if (paths.length > 0) this.dispatch({ type: 'cachesFound', gen: e.gen, paths });
          },
          (err: unknown) => this.bus.emit({ type: 'warning', worker: this.spec.name, message: `cache search: ${errorMessage(err)}` }),
        );
        return;
      case 'arm': {
        const old = this.timers.get(e.name);
        if (old) clearTimeout(old);
        const timer = setTimeout(() => {
          this.timers.delete(e.name);
          this.dispatch({ type: 'timer', name: e.name, epoch: e.epoch });
        }, e.ms);
        // The cache search after an early start is a courtesy; it must not hold a shutdown up.
        if (e.name === 'cache-search') timer.unref();
        this.timers.set(e.name, timer);
        return;
      }
      case 'quit':
        this.hooks.onQuit?.(e.code);
        return;
      default: {
        const never: never = e;
        throw new Error(`unknown effect ${JSON.stringify(never)}`);
      }
    }
  }

  private checkGate(): void {
    const gen = this.gateGen;
    if (gen === undefined) return;
    const p = this.machine.phase;
    if (p.kind !== 'starting' || p.gen !== gen || p.step !== 'deps') {
      this.gateGen = undefined;
      return;
    }
    const check = this.hooks.deps?.() ?? { ok: true, codes: {} };
    if (!check.ok) {
      if (check.waiting.join() !== (p.waitingFor ?? []).join()) this.dispatch({ type: 'depsWaiting', gen, waiting: check.waiting });
      return;
    }
    this.gateGen = undefined;
    this.dispatch({ type: 'depsReady', gen, codes: check.codes });
  }

  private clear(gen: number): void {
    // A start on the saved tree does not wait for the cache search when the last one found nothing
    // (nor one made before any file was read):
    // it runs right after the spawn, and whatever it finds restarts the generation, caches cleared.
    // The snapshot the child starts on is taken before the clear, once the tree has looked at every
    // change settled so far: the Python bytecode directory is readied for exactly that content (an
    // edit landing meanwhile makes the child stale, as always).
    const settled = this.hooks.settled?.();
    void (settled ? settled.catch(() => undefined) : Promise.resolve()).then(() => {
      const snapshot = this.hooks.latest();
      // A start made before any file was read has no saved search either (a fresh checkout): one
      // there seldom finds a cache, and a search before the spawn would cost most of what it gains.
      const searchAfter = snapshot.provisional === true && (snapshot.unknown === true || this.cacheSearch.lastFoundNothing);
      return Promise.resolve()
        .then(() => clearForStart(this.spec, snapshot, this.bus, this.cacheSearch, !searchAfter))
        .then(
          (r) => this.dispatch({ type: 'cleared', gen, env: r.env, count: r.count, bytes: r.bytes, snapshot, searchAfter }),
          (err: unknown) => this.dispatch({ type: 'cleared', gen, env: {}, count: 0, bytes: 0, snapshot, searchAfter, error: errorMessage(err) }),
        );
    }).catch((err: unknown) => this.bus.emit({ type: 'warning', worker: this.spec.name, message: `internal error (clear): ${errorMessage(err)}` }));
  }

  private spawn(gen: number, env: Record<string, string | undefined>): void {
    const s = this.spec;
    void Promise.resolve()
      // `.env` files are read at every start (an edit to one restarts the worker), under `env`.
      .then(() => this.port.spawn({ command: s.command, cwd: s.cwd, env: { ...readEnvFiles(s.envFiles ?? []), ...env }, stdin: s.stdin, output: s.output }))
      .then(
        (child) => this.dispatch({ type: 'spawned', gen, child }),
        (err: unknown) => this.dispatch({ type: 'spawnFailed', gen, message: errorMessage(err), reason: err instanceof SpawnError ? err.reason : 'other' }),
      );
  }

  private watch(gen: number, child: Child): void {
    const taps = new Set<(line: string) => void>();
    this.taps.set(gen, taps);
    const onOutput = this.hooks.onOutput;
    for (const stream of ['stdout', 'stderr'] as const) {
      const src = child[stream];
      if (!src) continue;
      readLines(src, (line) => {
        onOutput?.(gen, stream, line);
        for (const tap of taps) tap(line);
      });
    }
    if (child.stdout || child.stderr) void outputEnded([child.stdout, child.stderr]).then(() => this.hooks.onOutputEnded?.(gen));
    void child.exited.then(async (exit) => {
      this.reaped.add(child);
      this.taps.delete(gen);
      const p = this.machine.phase;
      // Only a child that ended by itself may have left processes behind that nobody stops.
      let leftovers;
      if (p.kind === 'running' && p.gen === gen) {
        const members = await this.port.captureTree(child.id).catch(() => []);
        if (members.length > 0) leftovers = { root: child.id, members };
      }
      this.dispatch({ type: 'exited', gen, exit, leftovers, depsNow: this.hooks.deps?.() });
    });
  }

  private probeReady(gen: number, child: Child): void {
    const probe = this.probe;
    if (!probe) return;
    const ac = new AbortController();
    this.probes.set(gen, ac);
    void child.exited.then(() => ac.abort());
    const lines = { on: (l: (line: string) => void) => void this.taps.get(gen)?.add(l) };
    void Promise.resolve()
      .then(() => probe({ spec: this.spec, gen, child, lines, signal: ac.signal }))
      .then(
        (out) => {
          this.probes.delete(gen);
          if (!out || ac.signal.aborted) return;
          if (out.kind === 'timed-out') this.dispatch({ type: 'readyTimedOut', gen, message: out.message });
          this.dispatch({ type: 'readySeen', gen, how: out.how, ports: out.kind === 'ready' ? out.ports : undefined, listening: out.listening });
        },
        (err: unknown) => this.bus.emit({ type: 'warning', worker: this.spec.name, message: `readiness probe: ${errorMessage(err)}` }),
      );
  }

  private stop(e: Extract<Effect, { type: 'stop' }>): void {
    const { gen, attempt, child } = e;
    void Promise.resolve()
      .then(() => this.port.stopTree(e.root, { signal: this.spec.signal, graceMs: this.spec.graceMs, captured: e.captured, exited: child?.exited }))
      .then(
        async (result) => {
          const exit = child ? await exitOrGiveUp(child, this.exitLagMs) : undefined;
          // The tree is gone, so the end of its output is a read or two away: the old generation's
          // last lines (what it printed on the way out) come before anything of the next one.
          if (child && !result.gaveUp) await within(outputEnded([child.stdout, child.stderr]), OUTPUT_DRAIN_MS);
          this.dispatch({ type: 'stopped', gen, attempt, result, exit });
        },
        (err: unknown) => this.dispatch({ type: 'stopFailed', gen, attempt, message: errorMessage(err) }),
      );
  }

  /** Done: nothing may fire any more. */
  private release(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const ac of this.probes.values()) ac.abort();
    this.probes.clear();
    this.gateGen = undefined;
  }
}

/**
 * How long a stopped generation's output may take to end once its tree is gone. Only a process
 * outside the tree that holds the pipes open (it inherited them, then left) makes it take longer.
 */
const OUTPUT_DRAIN_MS = 100;

/** The tree is gone, so the exit record is due; a missing one must not hold up the next start. */
async function exitOrGiveUp(child: Child, ms: number): Promise<ExitRecord> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<ExitRecord>((r) => {
    timer = setTimeout(() => r({ code: null, signal: 'SIGKILL', durationMs: 0 }), ms);
  });
  try {
    return await Promise.race([child.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}
