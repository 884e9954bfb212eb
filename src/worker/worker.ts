import { constants } from 'node:os';
import type { Writable } from 'node:stream';
import type { Bus } from '../core/bus.js';
import { errorMessage } from '../core/errors.js';
import type { ChangeSet, RestartContext, StartReason, TaskResult } from '../core/events.js';
import { diffSnapshots, isEmptyChange, type Snapshot } from '../watch/snapshot.js';
import { Backoff } from './backoff.js';
import { SavedSearch, searchMemoPath } from '../caches/saved-search.js';
import { cachesLeft, clearForStart, searchesCaches, type ClearSpec } from './clear-step.js';
import { spawnChild, type Child } from '../process/spawn.js';
import { captureTree, stopTree } from '../process/stop-tree.js';
import type { ExitRecord, ProcId } from '../process/types.js';
import { readLines } from '../process/lines.js';
import { relativeChanges } from './paths.js';
import { waitForPort } from './ready.js';
import { stripVTControlCharacters as stripAnsi } from 'node:util';

/**
 * After an early start, how long the checks that were put off (the look at the files, the cache
 * search) wait before they begin. Both keep a core busy for a while on a big tree, and the child's
 * boot is what the user waits for: on a two-core machine a small app boots about a third slower
 * when they run beside it. A check that starts later finds the same: it compares every file with
 * what the child started on.
 */
export const BOOT_HEAD_START_MS = 250;

export interface WorkerSpec {
  name: string;
  command: string[] | string;
  cwd: string;
  env: Record<string, string | undefined>;
  kind: 'service' | 'task';
  /** What happens when the child exits by itself. */
  onExit: 'wait' | 'restart' | 'quit';
  restartOnChange: boolean;
  signal: NodeJS.Signals;
  graceMs: number;
  clear: ClearSpec;
  /** Python children get the worker's PYTHONPYCACHEPREFIX, readied before each start. */
  python: boolean;
  stateDir: string;
  stdin: 'pipe' | 'ignore';
  output: 'inherit' | 'pipe';
  /** A service whose own exit is a result worth recording (`run --on-exit wait` of a test command). */
  exitIsResult?: boolean;
  /** Tasks: how many runs each new code gets (flake hunting). */
  repeat?: number;
  /** What marks a service ready; without it a service is ready once spawned. */
  ready?: { log: RegExp } | { port: number; host: string };
}

export type WorkerState =
  | { kind: 'idle' }
  | { kind: 'starting'; gen: number }
  | { kind: 'running'; gen: number; pid: number; startedAt: number; snapshot: Snapshot; child: Child }
  | { kind: 'stopping'; gen: number; pid: number; reason: string }
  | { kind: 'backoff'; gen: number; attempt: number; until: number }
  | { kind: 'exited'; gen: number; exit: ExitRecord }
  | { kind: 'start-failed'; gen: number; message: string }
  | { kind: 'done' };

export interface WorkerHooks {
  /** The latest settled snapshot of the worker's tree. */
  latest(): Snapshot;
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
}

/** A finished task run, kept to answer "did the run on this code pass?". */
export interface TaskRun {
  generation: number;
  snapshot: Snapshot;
  result: TaskResult;
  code: number | null;
  durationMs: number;
}

export interface WorkerStatus {
  name: string;
  state: WorkerState['kind'];
  generation: number;
  pid: number | null;
  startedAt: string | null;
  codeId: string | null;
  /** Files whose content differs from what the running generation started on. */
  staleFiles: string[];
  /** When the running generation was first seen stale (ms since the epoch). */
  staleSince: number | null;
  /** The running generation started on the saved tree, and the files are still being compared with it. */
  checking: boolean;
  lastExit: ExitRecord | null;
  ready: boolean;
  restarts: number;
  /** The snapshot the running (or last) generation was started on. */
  spawnSnapshot: Snapshot | null;
  tasks: readonly TaskRun[];
}

/**
 * One supervised command. Inputs (start, change, restart, stop, exit, timer, shutdown) are applied
 * one at a time through a queue, so a restart requested during a stop waits instead of racing it,
 * and every public method resolves once its input has been fully applied.
 */
export class Worker {
  private state: WorkerState = { kind: 'idle' };
  private gen = 0;
  /** Bumped on every transition; a timer armed in an older epoch is ignored. */
  private epoch = 0;
  private queue: Promise<void> = Promise.resolve();
  private spawnSnap: Snapshot | undefined;
  private prevTaskSnap: Snapshot | undefined;
  private leftovers: { root: ProcId; members: ProcId[] } | undefined;
  private lastExit: ExitRecord | null = null;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff = new Backoff();
  /** The cache search before each start re-reads only directories whose entries changed. */
  private readonly cacheSearch: SavedSearch;
  private readyGen = 0;
  private restarts = 0;
  private staleSince: number | null = null;
  private readyProbe: AbortController | undefined;
  private readonly taskRuns: TaskRun[] = [];

  constructor(
    readonly spec: WorkerSpec,
    private readonly bus: Bus,
    private readonly hooks: WorkerHooks,
  ) {
    const c = spec.clear;
    this.cacheSearch = new SavedSearch(searchesCaches(c) ? searchMemoPath(spec.stateDir, c.roots, c.presets, c.globs) : undefined);
  }

  get current(): WorkerState {
    return this.state;
  }

  start(reason: StartReason = 'initial'): Promise<void> {
    return this.enqueue(async () => {
      if (this.state.kind === 'running' || this.state.kind === 'done') return;
      await this.launch({ reason });
    });
  }

  /** A settled content change in the worker's tree. */
  changed(): Promise<void> {
    return this.enqueue(async () => {
      const latest = this.hooks.latest();
      const base = this.spawnSnap;
      if (!base || latest.codeId === base.codeId) return;
      const changes = diffSnapshots(base, latest);
      if (isEmptyChange(changes)) return;
      const rel = relativeChanges(changes, this.spec.cwd);
      const s = this.state;
      if (s.kind === 'running') {
        this.staleSince ??= Date.now();
        this.bus.emit({ type: 'stale', worker: this.spec.name, generation: s.gen, files: [...rel.modified, ...rel.added, ...rel.removed], restarting: this.spec.restartOnChange });
        if (!this.spec.restartOnChange) return;
        const stopMs = await this.stopCurrent('change');
        await this.launch({ reason: 'change', changes: rel, stopMs });
      } else if (s.kind === 'exited' || s.kind === 'start-failed' || s.kind === 'backoff') {
        if (!this.spec.restartOnChange && s.kind !== 'start-failed') return;
        await this.launch({ reason: 'change', changes: rel });
      }
    });
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      if (this.state.kind === 'done') return;
      const stopMs = this.state.kind === 'running' ? await this.stopCurrent('restart requested') : undefined;
      const changes = this.spawnSnap ? relativeChanges(diffSnapshots(this.spawnSnap, this.hooks.latest()), this.spec.cwd) : undefined;
      await this.launch({ reason: 'manual', changes, stopMs });
    });
  }

  /** Stops the tree and stays stopped until `start()`. */
  stop(): Promise<void> {
    return this.enqueue(async () => {
      if (this.state.kind === 'running') await this.stopCurrent('stop requested');
      await this.sweepLeftovers();
      this.cancelTimer();
      if (this.state.kind !== 'done') this.setState({ kind: 'idle' });
    });
  }

  shutdown(): Promise<void> {
    return this.enqueue(async () => {
      if (this.state.kind === 'running') await this.stopCurrent('shutting down');
      await this.sweepLeftovers();
      this.cancelTimer();
      this.setState({ kind: 'done' });
    });
  }

  /** Input typed by the user for the child (everything but devsup's own commands). */
  get stdin(): Writable | undefined {
    return this.state.kind === 'running' ? this.state.child.stdin : undefined;
  }

  status(): WorkerStatus {
    const s = this.state;
    const running = s.kind === 'running' ? s : undefined;
    let staleFiles: string[] = [];
    if (running) {
      const c = relativeChanges(diffSnapshots(running.snapshot, this.hooks.latest()), this.spec.cwd);
      staleFiles = [...c.modified, ...c.added, ...c.removed];
    }
    return {
      name: this.spec.name,
      state: s.kind,
      generation: this.gen,
      pid: running?.pid ?? null,
      startedAt: running ? new Date(running.startedAt).toISOString() : null,
      codeId: running?.snapshot.codeId ?? null,
      staleFiles,
      staleSince: running && staleFiles.length > 0 ? this.staleSince : null,
      checking: running?.snapshot.provisional === true,
      lastExit: this.lastExit,
      ready: running !== undefined && this.readyGen === running.gen,
      restarts: this.restarts,
      spawnSnapshot: this.spawnSnap ?? null,
      tasks: this.taskRuns,
    };
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.queue.then(step);
    // One failing input must not wedge the queue for the next ones.
    this.queue = run.catch((err: unknown) => {
      this.bus.emit({ type: 'warning', worker: this.spec.name, message: `internal error: ${errorMessage(err)}` });
    });
    return this.queue;
  }

  private setState(next: WorkerState): void {
    this.state = next;
    this.epoch++;
  }

  private async launch(ctx: RestartContext): Promise<void> {
    this.cancelTimer();
    const gen = ++this.gen;
    if (ctx.reason !== 'initial') this.restarts++;
    this.staleSince = null;
    this.readyProbe?.abort();
    const name = this.spec.name;
    const t0 = performance.now();
    this.setState({ kind: 'starting', gen });
    this.bus.emit({ type: 'worker-starting', worker: name, generation: gen, reason: ctx.reason });
    await this.sweepLeftovers();
    // A start on the saved tree does not wait for the cache search when the last one found nothing:
    // it runs right after the spawn, and whatever it finds restarts the generation, caches cleared.
    const searchAfter = this.hooks.latest().provisional === true && this.cacheSearch.lastFoundNothing;
    // Taken before clearing: Python's bytecode is readied for exactly the snapshot the child starts on.
    const snapshot = this.hooks.latest();
    const cleared = await clearForStart(this.spec, snapshot, this.bus, this.cacheSearch, !searchAfter);
    const startedAt = Date.now();
    const env: Record<string, string | undefined> = {
      ...this.spec.env,
      ...cleared.env,
      DEVSUP: '1',
      DEVSUP_GENERATION: String(gen),
      DEVSUP_STARTED_AT: new Date(startedAt).toISOString(),
      DEVSUP_CODE_ID: snapshot.codeId,
    };
    let child: Child;
    try {
      child = await spawnChild({ command: this.spec.command, cwd: this.spec.cwd, env, stdin: this.spec.stdin, output: this.spec.output });
    } catch (err) {
      this.spawnSnap = snapshot;
      const message = errorMessage(err);
      this.setState({ kind: 'start-failed', gen, message });
      this.bus.emit({ type: 'spawn-failed', worker: name, generation: gen, message });
      this.bus.emit({ type: 'waiting', worker: name, for: 'change' });
      return;
    }
    this.spawnSnap = snapshot;
    this.setState({ kind: 'running', gen, pid: child.pid, startedAt, snapshot, child });
    this.hooks.onChild?.(child, gen);
    if (snapshot.provisional) this.confirmLater(snapshot);
    if (searchAfter) this.searchCachesAfter(gen);
    const restart: RestartContext = { ...ctx, cleared: cleared.count > 0 ? { count: cleared.count, bytes: cleared.bytes } : undefined };
    this.bus.emit({
      type: 'worker-started',
      worker: name,
      generation: gen,
      pid: child.pid,
      codeId: snapshot.codeId,
      startedAt: new Date(startedAt).toISOString(),
      spawnMs: Math.round(performance.now() - t0),
      restart,
      ...(snapshot.provisional ? { provisional: true as const } : {}),
    });
    this.watchOutput(child, gen);
    this.watchReady(child, gen);
    void child.exited.then((rec) => this.enqueue(() => this.exited(gen, child, rec)));
  }

  /**
   * A generation started on the saved tree becomes fresh when the files turn out to be what was
   * saved. When they differ, the tree reports a change and the generation is stale like after any
   * edit; nothing is done here.
   */
  private confirmLater(provisional: Snapshot): void {
    const verified = this.hooks.verified?.();
    if (!verified) return;
    void verified.then(
      (real) =>
        this.enqueue(async () => {
          this.confirm(provisional, real);
        }),
      () => undefined,
    );
  }

  private searchCachesAfter(gen: number): void {
    const timer = setTimeout(() => {
      if (this.isRunning(gen)) this.searchCachesNow(gen);
    }, BOOT_HEAD_START_MS);
    timer.unref();
  }

  private searchCachesNow(gen: number): void {
    void cachesLeft(this.spec, this.cacheSearch).then(
      (paths) => {
        if (paths.length > 0) void this.enqueue(() => this.restartForCaches(gen, paths));
      },
      (err: unknown) => this.bus.emit({ type: 'warning', worker: this.spec.name, message: `cache search: ${errorMessage(err)}` }),
    );
  }

  /** Caches found after a start that did not wait for the search: the generation may have used them. */
  private async restartForCaches(gen: number, paths: string[]): Promise<void> {
    if (!this.isRunning(gen)) return;
    const rel = relativeChanges({ added: [], modified: paths, removed: [] }, this.spec.cwd);
    this.bus.emit({ type: 'stale', worker: this.spec.name, generation: gen, files: rel.modified, restarting: true });
    const stopMs = await this.stopCurrent('caches found');
    await this.launch({ reason: 'caches', stopMs });
  }

  private confirm(provisional: Snapshot, real: Snapshot): void {
    if (this.spawnSnap !== provisional || real.codeId !== provisional.codeId) return;
    this.spawnSnap = real;
    const s = this.state;
    // The same generation on the same code, now known by its files: not a transition.
    if (s.kind === 'running' && s.snapshot === provisional) this.state = { ...s, snapshot: real };
    // The generation started on it may have been followed by another on the same tree (caches).
    this.bus.emit({ type: 'fresh', worker: this.spec.name, generation: this.gen });
  }

  private watchOutput(child: Child, gen: number): void {
    const onOutput = this.hooks.onOutput;
    const ready = this.spec.ready;
    const logRe = ready && 'log' in ready ? ready.log : undefined;
    for (const stream of ['stdout', 'stderr'] as const) {
      const src = child[stream];
      if (!src) continue;
      readLines(src, (line) => {
        onOutput?.(gen, stream, line);
        if (logRe && this.readyGen !== gen && this.isRunning(gen) && logRe.test(stripAnsi(line))) this.markReady(gen, 'log');
      });
    }
  }

  private watchReady(child: Child, gen: number): void {
    const ready = this.spec.ready;
    if (this.spec.kind === 'task') return;
    if (!ready) {
      this.markReady(gen, 'started');
    } else if ('port' in ready) {
      const ac = new AbortController();
      this.readyProbe = ac;
      void child.exited.then(() => ac.abort());
      void waitForPort(ready.port, ready.host, ac.signal).then((ok) => {
        if (ok && this.isRunning(gen)) this.markReady(gen, 'port');
      });
    }
  }

  private isRunning(gen: number): boolean {
    return this.state.kind === 'running' && this.state.gen === gen;
  }

  private markReady(gen: number, how: 'log' | 'port' | 'started'): void {
    this.readyGen = gen;
    this.bus.emit({ type: 'ready', worker: this.spec.name, generation: gen, how });
  }

  /** The child ended by itself (a stop we asked for is handled in stopCurrent). */
  private async exited(gen: number, child: Child, rec: ExitRecord): Promise<void> {
    const s = this.state;
    if (s.kind !== 'running' || s.gen !== gen) return;
    const name = this.spec.name;
    this.lastExit = rec;
    const members = await captureTree(child.id).catch(() => []);
    this.leftovers = members.length > 0 ? { root: child.id, members } : undefined;
    this.setState({ kind: 'exited', gen, exit: rec });
    this.bus.emit({ type: 'exited', worker: name, generation: gen, code: rec.code, signal: rec.signal, durationMs: rec.durationMs });
    if (this.spec.kind === 'task' || this.spec.exitIsResult) {
      const ranOn = await this.knownCode(s.snapshot);
      this.finishTask(gen, rec, ranOn ? (rec.code === 0 ? 'passed' : 'failed') : 'cancelled', ranOn ?? s.snapshot);
      if (this.spec.kind === 'task' && ranOn && (await this.repeatTask(ranOn))) return;
    }
    const code = rec.code ?? 128 + signalNumber(rec.signal);
    if (this.spec.onExit === 'quit') {
      this.hooks.onQuit?.(code);
      return;
    }
    if (this.spec.onExit === 'restart' && this.spec.kind === 'service') {
      const { attempt, delayMs } = this.backoff.next(rec.durationMs);
      this.setState({ kind: 'backoff', gen, attempt, until: Date.now() + delayMs });
      this.bus.emit({ type: 'backoff', worker: name, attempt, delayMs });
      const epoch = this.epoch;
      this.timer = setTimeout(() => {
        void this.enqueue(async () => {
          if (this.epoch === epoch && this.state.kind === 'backoff') await this.launch({ reason: 'crash' });
        });
      }, delayMs);
      return;
    }
    this.bus.emit({ type: 'waiting', worker: name, for: 'change' });
  }

  /**
   * The snapshot a finished run is recorded against. A run started on the saved tree waits for the
   * files to be compared with it: a result is never filed under a code id that was not the code's.
   * Undefined when the files differed (the run's code is unknown) or could not be looked at.
   */
  private async knownCode(snap: Snapshot): Promise<Snapshot | undefined> {
    if (!snap.provisional) return snap;
    const real = await this.hooks.verified?.().catch(() => undefined);
    if (!real || real.codeId !== snap.codeId) return undefined;
    this.confirm(snap, real);
    return real;
  }

  /** Runs the task again while its code has had fewer than `repeat` finished runs. */
  private async repeatTask(snap: Snapshot): Promise<boolean> {
    const repeat = this.spec.repeat ?? 1;
    if (repeat <= 1) return false;
    const runs = this.taskRuns.filter((r) => r.result !== 'cancelled' && r.snapshot.codeId === snap.codeId);
    if (runs.length < repeat) {
      await this.launch({ reason: 'repeat' });
      return true;
    }
    if (runs.length === repeat) {
      const failed = runs.filter((r) => r.result === 'failed').length;
      this.bus.emit({ type: 'task-summary', worker: this.spec.name, codeId: snap.codeId, runs: runs.length, failed });
    }
    return false;
  }

  private finishTask(gen: number, rec: ExitRecord, result: 'passed' | 'failed' | 'cancelled', snap: Snapshot): void {
    const changed = this.prevTaskSnap ? countChanges(diffSnapshots(this.prevTaskSnap, snap)) : 0;
    if (result !== 'cancelled') this.prevTaskSnap = snap;
    this.taskRuns.push({ generation: gen, snapshot: snap, result, code: rec.code, durationMs: rec.durationMs });
    if (this.taskRuns.length > Math.max(50, (this.spec.repeat ?? 1) * 2)) this.taskRuns.shift();
    this.bus.emit({
      type: 'task-finished',
      worker: this.spec.name,
      generation: gen,
      result,
      code: rec.code,
      signal: rec.signal,
      durationMs: rec.durationMs,
      changedFiles: changed,
    });
    if (result === 'passed' && this.spec.kind === 'task') this.markReady(gen, 'started');
  }

  /** Stops the running tree; returns how long it took to be gone. */
  private async stopCurrent(reason: string): Promise<number> {
    const s = this.state;
    if (s.kind !== 'running') return 0;
    const { gen, pid, child } = s;
    this.readyProbe?.abort();
    this.setState({ kind: 'stopping', gen, pid, reason });
    this.bus.emit({ type: 'stopping', worker: this.spec.name, generation: gen, pid, reason, signal: this.spec.signal });
    const res = await stopTree(child.id, { signal: this.spec.signal, graceMs: this.spec.graceMs });
    const rec = await exitOrGiveUp(child, 1000);
    this.lastExit = rec;
    const how = res.gaveUp ? 'gave-up' : res.forced ? 'killed' : res.treeSize === 0 ? 'already-exited' : 'signal';
    this.bus.emit({
      type: 'stopped',
      worker: this.spec.name,
      generation: gen,
      how,
      durationMs: Math.round(res.durationMs),
      treeSize: res.treeSize,
      survivors: res.survivors.length,
    });
    if (res.survivors.length > 0) {
      this.bus.emit({ type: 'warning', worker: this.spec.name, message: `${res.survivors.length} process(es) survived SIGKILL: ${res.survivors.map((p) => p.pid).join(', ')}` });
    }
    if (this.spec.kind === 'task') this.finishTask(gen, rec, 'cancelled', s.snapshot);
    return Math.round(res.durationMs);
  }

  /** Processes a child left behind when it exited by itself (its group, its descendants). */
  private async sweepLeftovers(): Promise<void> {
    const left = this.leftovers;
    if (!left) return;
    this.leftovers = undefined;
    // The dead leader's group id cannot be reused while a member lives, so signalling it is safe.
    await stopTree(left.root, { signal: this.spec.signal, graceMs: this.spec.graceMs, captured: left.members });
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

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

function countChanges(c: ChangeSet): number {
  return c.added.length + c.modified.length + c.removed.length;
}

/** Shells report death by signal N as 128 + N; `--on-exit quit` does the same. */
function signalNumber(sig: NodeJS.Signals | null): number {
  return sig ? (constants.signals[sig] ?? 0) : 0;
}
