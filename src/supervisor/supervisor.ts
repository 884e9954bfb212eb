import type { Bus } from '../core/bus.js';
import { DevsupError, errorMessage } from '../core/errors.js';
import type { DevsupEvent } from '../core/events.js';
import { Ring } from '../core/ring.js';
import { within } from '../core/within.js';
import { SCROLLBACK_CHARS } from '../process/lines.js';
import { clearCaches } from '../caches/clear.js';
import { shouldPoll } from '../doctor/filesystems.js';
import { explainNoFiles } from '../watch/explain.js';
import { indexPath } from '../watch/index-file.js';
import { filesInRoots } from '../watch/own-output.js';
import type { Snapshot } from '../watch/snapshot.js';
import { TreeClosedError, type TreeOptions, type WatchedTree } from '../watch/tree.js';
import { relativeChanges, relativeTo } from '../worker/paths.js';
import type { Writable } from 'node:stream';
import type { DepCheck } from '../worker/machine.js';
import { lastResult } from '../worker/tasks.js';
import { BOOT_HEAD_START_MS, Worker, type WorkerSpec } from '../worker/worker.js';
import { guardLoops } from './loop-guard.js';
import type { ConfigRejected, LogLine, SupervisorApi, SupervisorSnapshot, WaitFreshResult } from './api.js';
import { viewOf } from './view.js';
import { watchPortConflicts } from './port-conflict.js';
import { SharedTrees, type SharedTree } from './shared-trees.js';
import { SpawnBatch } from './spawn-batch.js';
import { realPort } from '../worker/real-port.js';
import { holdsReleased, waitFresh } from './wait-fresh.js';

export interface WorkerEntry {
  spec: WorkerSpec;
  watch: Omit<TreeOptions, 'onWarning' | 'onChange' | 'indexFile'>;
  dependsOn?: string[];
}

export interface Slot {
  entry: WorkerEntry;
  worker: Worker;
  /** Shared with every worker whose watch settings are the same (shared-trees.ts). */
  tree: WatchedTree;
  shared: SharedTree;
  /** Holds this worker has put on its tree: taken back when it leaves a tree others still use. */
  holds: number;
  logs: Ring<LogLine>;
  started: boolean;
  /** Told when someone learns the worker is fresh: the edits that follow are theirs, not a loop. */
  loops: { vouched(): void };
}

export interface SupervisorOptions {
  root: string;
  version: string;
  scrollback?: number;
  onQuit?: (code: number) => void;
  /** Files never watched, by real path: where devsup's own output goes (see own-output.ts). */
  leaveOut?: string[];
  /** The children's output bytes as they are (for `run`, whose child owns the terminal's output). */
  passThrough?: { stdout: Writable; stderr: Writable };
}

/**
 * Owns the workers and the trees they watch: routes settled changes to the worker whose tree
 * changed, starts dependants once what they depend on is ready, pauses restarts while held, and
 * stops everything on shutdown. Every view and the control socket go through SupervisorApi.
 */
export class Supervisor implements SupervisorApi {
  private readonly slots = new Map<string, Slot>();
  private readonly trees = new SharedTrees();
  private readonly spawns = new SpawnBatch();
  private readonly holders = new Map<number, string>();
  private nextHold = 1;
  private stopping: Promise<void> | undefined;
  private running = false;
  private configRejected: ConfigRejected | undefined;
  private configBarrier: (() => Promise<void>) | undefined;

  constructor(
    private readonly bus: Bus,
    entries: WorkerEntry[],
    private readonly opts: SupervisorOptions,
  ) {
    for (const e of entries) this.slots.set(e.spec.name, this.makeSlot(e));
    bus.on((e) => this.route(e));
    watchPortConflicts(bus, { root: opts.root, spec: (name) => this.slots.get(name)?.entry.spec });
  }

  private makeSlot(e: WorkerEntry): Slot {
    const name = e.spec.name;
    const logs = new Ring<LogLine>(this.opts.scrollback ?? 5000, SCROLLBACK_CHARS);
    const leaveOut = filesInRoots(this.opts.leaveOut ?? [], e.watch.roots);
    const shared = this.trees.join(name, { ...e.watch, indexFile: indexPath(e.spec.stateDir, e.watch.roots), ...(leaveOut.length > 0 ? { leaveOut } : {}) }, {
      onWarning: (message) => this.bus.emit({ type: 'warning', worker: name, message }),
      onChange: (snap, changes) => {
        this.bus.emit({ type: 'change', worker: name, changes: relativeChanges(changes, e.spec.cwd), seq: snap.seq });
        // An edit several workers watch reaches each through its own tree and settle window. A
        // dependency that has heard of changes it has not acted on yet is still ready on its old
        // code: restarting now would start this worker against that, before the dependency restarts.
        const ahead = this.settlingDependencies(e.dependsOn ?? []);
        if (!ahead) void worker.changed();
        else void ahead.then(() => worker.changed());
      },
    });
    const tree = shared.tree;
    const deps = e.dependsOn ?? [];
    const pass = this.opts.passThrough;
    const worker: Worker = new Worker(
      e.spec,
      this.bus,
      {
        latest: () => tree.latest,
        settled: () => tree.settled(),
        verified: () => tree.verified(),
        onQuit: (code) => this.opts.onQuit?.(code),
        onChild: pass
          ? (child) => {
              child.stdout?.pipe(pass.stdout, { end: false });
              child.stderr?.pipe(pass.stderr, { end: false });
            }
          : undefined,
        onOutput: (generation, stream, line) => {
          logs.push({ generation, stream, text: line, t: Date.now() }, line.length);
          this.bus.emit({ type: 'output', worker: name, generation, stream, line });
        },
        onOutputEnded: (generation) => this.bus.emit({ type: 'output-ended', worker: name, generation }),
        deps: deps.length > 0 ? () => this.depCheck(deps) : undefined,
      },
      { gated: deps.length > 0, port: this.spawns.port(name, realPort) },
    );
    const loops = guardLoops(this.bus, name, tree, e.spec.cwd);
    return { entry: e, worker, tree, shared, holds: 0, logs, started: false, loops };
  }

  /**
   * Watches before the first start, so an edit made while a child boots is not missed. A service
   * whose big tree has a complete saved index starts first, on the saved tree, while its files are
   * compared with it (see WatchedTree.early): what the watcher and the comparison find afterwards
   * is found all the same, and a difference restarts it as an edit would.
   */
  async startAll(): Promise<void> {
    this.running = true;
    const early = [...this.slots.values()].filter(
      (s) => s.entry.spec.kind === 'service' && (s.entry.dependsOn ?? []).length === 0 && earlyOf(s) !== undefined,
    );
    for (const s of early) s.started = true;
    await Promise.all(early.map((s) => s.worker.start('initial')));
    if (early.length > 0) await new Promise((r) => setTimeout(r, BOOT_HEAD_START_MS));
    // All at once: each tree's first look is a chain of small reads, and twenty of them one after
    // another would hold back every start by the sum of their waits.
    await Promise.all([...this.slots.values()].map((slot) => this.watch(slot)));
    await this.startEligible();
  }

  private async watch(slot: Slot): Promise<void> {
    if (!this.running) return;
    const name = slot.entry.spec.name;
    // A tree another worker already watches is started once; this worker waits for that start.
    const shared = slot.shared;
    shared.unreliable ??= slot.entry.watch.poll ? Promise.resolve([]) : unreliableRoots(slot.tree.roots);
    const unreliable = await shared.unreliable;
    if (!shared.started) {
      if (unreliable.length > 0) {
        this.bus.emit({ type: 'warning', worker: name, message: `change events are unreliable on the filesystem of ${unreliable.join(', ')}; polling instead` });
      }
      shared.started = slot.tree.start(unreliable.length > 0).catch((err: unknown) => {
        // Shut down (or every worker of it removed) while the tree started: nothing is left to report.
        if (err instanceof TreeClosedError) return undefined;
        throw err;
      });
    }
    const snap = await shared.started;
    // Gone meanwhile: shut down, or this worker removed from the config (its tree may live on for others).
    if (!snap || slot.tree.isClosed || this.slots.get(name) !== slot) return;
    for (; slot.holds < this.holders.size; slot.holds++) slot.tree.hold();
    this.bus.emit({
      type: 'watching',
      worker: name,
      roots: slot.tree.roots,
      backend: slot.tree.backend,
      files: snap.files.size,
      fallbackReason: slot.tree.fallbackReason,
    });
    if (snap.files.size === 0) this.bus.emit({ type: 'warning', worker: name, message: explainNoFiles({ ...slot.entry.watch, gitignore: true }) });
  }

  /**
   * Resolves once each named worker's tree has settled and acted on what it heard of (bounded by
   * its settle window plus SETTLING_DEPENDENCY_SLACK_MS, should a burst never end); undefined when
   * none of them is settling.
   */
  private settlingDependencies(names: readonly string[]): Promise<void> | undefined {
    const settling = names.map((n) => this.slots.get(n)).filter((d): d is Slot => d !== undefined && d.tree.settling);
    if (settling.length === 0) return undefined;
    return Promise.all(
      settling.map((d) => within(d.tree.whenSettled(), d.entry.watch.settleMs + SETTLING_DEPENDENCY_SLACK_MS)),
    ).then(() => undefined);
  }

  /**
   * Starts every worker not yet started. One with dependencies waits, in its start, until each of
   * them is ready on the code on disk (see depCheck), and does so again on every later start.
   */
  private async startEligible(): Promise<void> {
    if (!this.running) return;
    const due = [...this.slots.values()].filter((s) => !s.started);
    for (const s of due) s.started = true;
    // Those without dependencies spawn together (see SpawnBatch); the others wait at their gate.
    // What others wait for leads the batch: spawns run one at a time on this thread (each blocks
    // it until the child has exec'd, 10-40 ms), so a dependency queued behind twenty others would
    // start hundreds of milliseconds late and hold back everything that depends on it.
    const waitedFor = new Set([...this.slots.values()].flatMap((s) => s.entry.dependsOn ?? []));
    const free = due.filter((s) => (s.entry.dependsOn ?? []).length === 0).map((s) => s.entry.spec.name);
    this.spawns.hold(free, free.filter((n) => waitedFor.has(n)));
    await Promise.all(due.map((s) => s.worker.start('initial')));
  }

  /**
   * Whether each named worker is ready on the code on disk now: a service running, ready and not
   * stale (unless its policy keeps it running stale on purpose), a task whose last result on the
   * current code passed. The code id of each is what a task run records it ran against.
   */
  private depCheck(names: readonly string[]): DepCheck {
    const codes: Record<string, string> = {};
    const waiting: string[] = [];
    for (const n of names) {
      const d = this.slots.get(n);
      if (!d) continue;
      const code = readyCode(d);
      if (code === undefined) waiting.push(n);
      else codes[n] = code;
    }
    return waiting.length > 0 ? { ok: false, waiting } : { ok: true, codes };
  }

  private route(e: DevsupEvent): void {
    // The last word on the config file: problems until an edit that validates clears them.
    if (e.type === 'config-check') this.configRejected = e.problems.length > 0 ? { file: e.file, problems: e.problems } : undefined;
    if (e.type === 'worker-started') {
      const slot = this.slots.get(e.worker);
      slot?.logs.push({ generation: e.generation, stream: 'devsup', text: `── generation ${e.generation} started (pid ${e.pid}, code ${e.codeId}) ──`, t: Date.now() });
    }
    if (e.type !== 'output' && 'worker' in e && e.worker !== undefined) this.dependencyMoved(e.worker, e);
  }

  /**
   * Something happened to `name`: starts waiting for it may go on; a task run that began on what it
   * no longer is gets cancelled and runs again; a finished task runs again once `name` is ready on
   * code its last run did not see.
   */
  private dependencyMoved(name: string, e: DevsupEvent): void {
    if (!this.running) return;
    for (const d of this.slots.values()) {
      const deps = d.entry.dependsOn ?? [];
      if (!deps.includes(name)) continue;
      d.worker.depsChanged();
      if (d.entry.spec.kind !== 'task' || !d.started) continue;
      const cur = d.worker.current;
      const lost = e.type === 'worker-starting' || e.type === 'stopping' || e.type === 'exited' || (e.type === 'stale' && e.restarting);
      if (lost && (cur.kind === 'running' || (cur.kind === 'starting' && cur.step !== 'deps'))) {
        void d.worker.restart('dependency');
      } else if ((e.type === 'ready' || e.type === 'fresh') && cur.kind === 'exited') {
        const check = this.depCheck(deps);
        const last = d.worker.status().tasks.at(-1);
        if (check.ok && last && !sameCodes(last.deps, check.codes)) void d.worker.restart('dependency');
      }
    }
  }

  /**
   * Applies an edited config: removed workers stop, changed ones stop and start again with their new
   * settings, added ones start (after what they depend on). Unchanged workers are not touched.
   */
  async reconcile(entries: WorkerEntry[], diff: { added: string[]; removed: string[]; changed: string[] }): Promise<void> {
    const byName = new Map(entries.map((e) => [e.spec.name, e]));
    const drop = [...diff.removed, ...diff.changed];
    await Promise.all(
      drop.map(async (name) => {
        const slot = this.slots.get(name);
        if (!slot) return;
        this.slots.delete(name);
        await this.trees.leave(name, slot.shared, slot.holds).catch(() => undefined);
        await slot.worker.shutdown();
      }),
    );
    const order = entries.map((e) => e.spec.name);
    for (const name of [...diff.changed, ...diff.added]) {
      const e = byName.get(name);
      if (!e) continue;
      const slot = this.makeSlot(e);
      this.slots.set(name, slot);
      await this.watch(slot);
    }
    // Keep the config's order for views.
    const sorted = [...this.slots.entries()].sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
    this.slots.clear();
    for (const [k, v] of sorted) this.slots.set(k, v);
    await this.startEligible();
  }

  worker(name: string): Worker | undefined {
    return this.slots.get(name)?.worker;
  }

  get workers(): Worker[] {
    return [...this.slots.values()].map((s) => s.worker);
  }

  private slot(name: string): Slot {
    const s = this.slots.get(name);
    if (!s) throw new UnknownWorkerError(name, [...this.slots.keys()]);
    return s;
  }

  // SupervisorApi

  snapshot(): SupervisorSnapshot {
    return {
      version: this.opts.version,
      pid: process.pid,
      root: this.opts.root,
      holds: [...this.holders.values()],
      workers: [...this.slots.values()].map((s) => viewOf(s.worker, s.tree.excludedPaths.map((p) => relativeTo(s.entry.spec.cwd, p)))),
      ...(this.configRejected ? { configRejected: this.configRejected } : {}),
    };
  }

  subscribe(listener: (e: DevsupEvent) => void): () => void {
    return this.bus.on(listener);
  }

  async restart(names: string[] | 'all'): Promise<void> {
    const slots = names === 'all' ? [...this.slots.values()] : names.map((n) => this.slot(n));
    await Promise.all(slots.map((s) => ((s.started = true), s.worker.restart())));
  }

  writeInput(name: string, text: string): boolean {
    const stdin = this.slot(name).worker.stdin;
    if (!stdin || stdin.destroyed) return false;
    stdin.write(text);
    return true;
  }

  endInput(name: string): void {
    this.slot(name).worker.stdin?.end();
  }

  async stop(name: string): Promise<void> {
    await this.slot(name).worker.stop();
  }

  async start(name: string): Promise<void> {
    const s = this.slot(name);
    s.started = true;
    await s.worker.start('manual');
  }

  async clearCaches(name: string): Promise<{ paths: string[]; bytes: number }> {
    const c = this.slot(name).entry.spec.clear;
    if (!c.enabled) return { paths: [], bytes: 0 };
    const res = await clearCaches({ roots: c.roots, presets: c.presets, globs: c.globs });
    this.bus.emit({ type: 'caches-cleared', worker: name, paths: res.paths, bytes: res.bytes });
    return { paths: res.paths, bytes: res.bytes };
  }

  logs(name: string, lines: number): LogLine[] {
    return this.slot(name).logs.last(lines);
  }

  hold(holder: string): () => void {
    const id = this.nextHold++;
    this.holders.set(id, holder);
    for (const s of this.slots.values()) {
      s.tree.hold();
      s.holds++;
    }
    this.bus.emit({ type: 'hold', holder, holds: this.holders.size });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders.delete(id);
      for (const s of this.slots.values()) {
        if (s.holds === 0) continue;
        s.tree.release();
        s.holds--;
      }
      this.bus.emit({ type: 'release', holder, holds: this.holders.size });
    };
  }

  /** Run first by every wait-fresh: applies a saved edit of the config file not yet acted on. */
  useConfigBarrier(barrier: () => Promise<void>): void {
    this.configBarrier = barrier;
  }

  /**
   * Waits for every hold to be released first: a barrier settles pending changes at once, so taken
   * during a hold it would start the workers on the half-written state the hold is there to hide.
   */
  async waitFresh(names: string[], timeoutMs: number): Promise<WaitFreshResult> {
    const t0 = Date.now();
    await this.configBarrier?.();
    if (this.configRejected) return { ok: false, tasks: [], waiting: [], configRejected: this.configRejected };
    const slots = this.withDependencies(names.length === 0 ? [...this.slots.values()] : names.map((n) => this.slot(n)));
    if (!(await holdsReleased(this.bus, () => this.holders.size, timeoutMs))) {
      return { ok: false, tasks: [], waiting: [...this.holders.values()].map((h) => `the release of the hold by ${h}`) };
    }
    const res = await waitFresh(this.bus, slots, Math.max(0, timeoutMs - (Date.now() - t0)), (s) => {
      const deps = s.entry.dependsOn ?? [];
      return deps.length > 0 ? this.depCheck(deps) : undefined;
    });
    if (res.ok) for (const s of slots) s.loops.vouched();
    return res;
  }

  /**
   * The slots and everything they depend on, transitively: a worker is fresh only on the current
   * code of what it depends on, so an edit there must be part of the barrier too.
   */
  private withDependencies(slots: Slot[]): Slot[] {
    const out = new Map<string, Slot>();
    const add = (s: Slot): void => {
      if (out.has(s.entry.spec.name)) return;
      out.set(s.entry.spec.name, s);
      for (const d of s.entry.dependsOn ?? []) {
        const dep = this.slots.get(d);
        if (dep) add(dep);
      }
    };
    for (const s of slots) add(s);
    return [...out.values()];
  }

  /** Idempotent: every caller waits for the same shutdown. */
  shutdown(): Promise<void> {
    this.running = false;
    this.stopping ??= (async () => {
      await Promise.all(
        // The worker's queue puts its shutdown before any change the closing watcher still reports.
        [...this.slots.values()].map(({ entry, worker, shared, holds }) =>
          Promise.all([
            this.trees.leave(entry.spec.name, shared, holds).catch((err: unknown) => this.bus.emit({ type: 'warning', message: `closing watcher: ${errorMessage(err)}` })),
            worker.shutdown(),
          ]),
        ),
      );
    })();
    return this.stopping;
  }
}

/** How much longer than its settle window a restart waits for a dependency's tree to settle. */
const SETTLING_DEPENDENCY_SLACK_MS = 2000;

export class UnknownWorkerError extends DevsupError {
  constructor(name: string, known: string[]) {
    super(`unknown worker "${name}"; workers: ${known.join(', ') || 'none'}`, 'unknown-worker', 2);
  }
}

/** The tree's early snapshot (see WatchedTree.early), asked once per tree whoever asks. */
function earlyOf(slot: Slot): Snapshot | undefined {
  slot.shared.early ??= { snapshot: slot.tree.early() };
  return slot.shared.early.snapshot;
}

/** The code id a worker is ready on, or undefined while it is not ready on the code on disk. */
function readyCode(slot: Slot): string | undefined {
  const w = slot.worker;
  if (w.kind === 'task') {
    const last = lastResult({ runs: w.status().tasks });
    return last?.result === 'passed' && last.snapshot.codeId === slot.tree.latest.codeId ? last.snapshot.codeId : undefined;
  }
  const st = w.status();
  if (st.state !== 'running' || !st.ready || st.codeId === null) return undefined;
  if (st.staleFiles.length > 0 && slot.entry.spec.restartOnChange) return undefined;
  return st.codeId;
}

function sameCodes(a: Readonly<Record<string, string>> | undefined, b: Readonly<Record<string, string>>): boolean {
  return Object.entries(b).every(([k, v]) => a?.[k] === v);
}

async function unreliableRoots(roots: string[]): Promise<string[]> {
  const flags = await Promise.all(roots.map((r) => shouldPoll(r).catch(() => false)));
  return roots.filter((_, i) => flags[i]);
}
