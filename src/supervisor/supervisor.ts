import type { Bus } from '../core/bus.js';
import { DevsupError, errorMessage } from '../core/errors.js';
import type { DevsupEvent } from '../core/events.js';
import { Ring } from '../core/ring.js';
import { clearCaches } from '../caches/clear.js';
import { shouldPoll } from '../doctor/filesystems.js';
import { explainNoFiles } from '../watch/explain.js';
import { indexPath } from '../watch/index-file.js';
import { TreeClosedError, WatchedTree, type TreeOptions } from '../watch/tree.js';
import { relativeChanges } from '../worker/paths.js';
import { BOOT_HEAD_START_MS, Worker, type WorkerSpec } from '../worker/worker.js';
import type { LogLine, SupervisorApi, SupervisorSnapshot, WaitFreshResult } from './api.js';
import { viewOf } from './view.js';
import { watchPortConflicts } from './port-conflict.js';
import { holdsReleased, waitFresh } from './wait-fresh.js';

export interface WorkerEntry {
  spec: WorkerSpec;
  watch: Omit<TreeOptions, 'onWarning' | 'onChange' | 'indexFile'>;
  dependsOn?: string[];
}

export interface Slot {
  entry: WorkerEntry;
  worker: Worker;
  tree: WatchedTree;
  logs: Ring<LogLine>;
  /** Has been ready at least once (dependants wait for this). */
  everReady: boolean;
  started: boolean;
}

export interface SupervisorOptions {
  root: string;
  version: string;
  scrollback?: number;
  onQuit?: (code: number) => void;
}

/**
 * Owns the workers and the trees they watch: routes settled changes to the worker whose tree
 * changed, starts dependants once what they depend on is ready, pauses restarts while held, and
 * stops everything on shutdown. Every view and the control socket go through SupervisorApi.
 */
export class Supervisor implements SupervisorApi {
  private readonly slots = new Map<string, Slot>();
  private readonly holders = new Map<number, string>();
  private nextHold = 1;
  private stopping: Promise<void> | undefined;
  private running = false;

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
    const logs = new Ring<LogLine>(this.opts.scrollback ?? 5000);
    const tree: WatchedTree = new WatchedTree({
      ...e.watch,
      indexFile: indexPath(e.spec.stateDir, e.watch.roots),
      onWarning: (message) => this.bus.emit({ type: 'warning', worker: name, message }),
      onChange: (snap, changes) => {
        this.bus.emit({ type: 'change', worker: name, changes: relativeChanges(changes, e.spec.cwd), seq: snap.seq });
        void worker.changed();
      },
    });
    const worker: Worker = new Worker(e.spec, this.bus, {
      latest: () => tree.latest,
      verified: () => tree.verified(),
      onQuit: (code) => this.opts.onQuit?.(code),
      onOutput: (generation, stream, line) => {
        logs.push({ generation, stream, text: line, t: Date.now() });
        this.bus.emit({ type: 'output', worker: name, generation, stream, line });
      },
    });
    return { entry: e, worker, tree, logs, everReady: false, started: false };
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
      (s) => s.entry.spec.kind === 'service' && (s.entry.dependsOn ?? []).length === 0 && s.tree.early() !== undefined,
    );
    for (const s of early) s.started = true;
    await Promise.all(early.map((s) => s.worker.start('initial')));
    if (early.length > 0) await new Promise((r) => setTimeout(r, BOOT_HEAD_START_MS));
    for (const slot of this.slots.values()) await this.watch(slot);
    await this.startEligible();
  }

  private async watch(slot: Slot): Promise<void> {
    if (!this.running) return;
    const name = slot.entry.spec.name;
    const unreliable = slot.entry.watch.poll ? [] : await unreliableRoots(slot.tree.roots);
    if (unreliable.length > 0) {
      this.bus.emit({ type: 'warning', worker: name, message: `change events are unreliable on the filesystem of ${unreliable.join(', ')}; polling instead` });
    }
    const snap = await slot.tree.start(unreliable.length > 0).catch((err: unknown) => {
      // Shut down (or the worker removed) while its tree started: nothing is left to report.
      if (err instanceof TreeClosedError) return undefined;
      throw err;
    });
    if (!snap) return;
    for (const _ of this.holders) slot.tree.hold();
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

  /** Starts every worker not yet started whose dependencies have all been ready. */
  private async startEligible(): Promise<void> {
    if (!this.running) return;
    const ready = (n: string): boolean => this.slots.get(n)?.everReady ?? true;
    const due = [...this.slots.values()].filter((s) => !s.started && (s.entry.dependsOn ?? []).every(ready));
    for (const s of due) s.started = true;
    await Promise.all(due.map((s) => s.worker.start('initial')));
  }

  private route(e: DevsupEvent): void {
    if (e.type === 'ready') {
      const slot = this.slots.get(e.worker);
      if (slot && !slot.everReady) {
        slot.everReady = true;
        void this.startEligible();
      }
    } else if (e.type === 'worker-started') {
      const slot = this.slots.get(e.worker);
      slot?.logs.push({ generation: e.generation, stream: 'devsup', text: `── generation ${e.generation} started (pid ${e.pid}, code ${e.codeId}) ──`, t: Date.now() });
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
        await slot.tree.close().catch(() => undefined);
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
      workers: [...this.slots.values()].map((s) => viewOf(s.worker)),
    };
  }

  subscribe(listener: (e: DevsupEvent) => void): () => void {
    return this.bus.on(listener);
  }

  async restart(names: string[] | 'all'): Promise<void> {
    const slots = names === 'all' ? [...this.slots.values()] : names.map((n) => this.slot(n));
    await Promise.all(slots.map((s) => ((s.started = true), s.worker.restart())));
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
    for (const s of this.slots.values()) s.tree.hold();
    this.bus.emit({ type: 'hold', holder, holds: this.holders.size });
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holders.delete(id);
      for (const s of this.slots.values()) s.tree.release();
      this.bus.emit({ type: 'release', holder, holds: this.holders.size });
    };
  }

  /**
   * Waits for every hold to be released first: a barrier settles pending changes at once, so taken
   * during a hold it would start the workers on the half-written state the hold is there to hide.
   */
  async waitFresh(names: string[], timeoutMs: number): Promise<WaitFreshResult> {
    const slots = names.length === 0 ? [...this.slots.values()] : names.map((n) => this.slot(n));
    const t0 = Date.now();
    if (!(await holdsReleased(this.bus, () => this.holders.size, timeoutMs))) {
      return { ok: false, tasks: [], waiting: [...this.holders.values()].map((h) => `the release of the hold by ${h}`) };
    }
    return waitFresh(this.bus, slots, Math.max(0, timeoutMs - (Date.now() - t0)));
  }

  /** Idempotent: every caller waits for the same shutdown. */
  shutdown(): Promise<void> {
    this.running = false;
    this.stopping ??= (async () => {
      await Promise.all(
        // The worker's queue puts its shutdown before any change the closing watcher still reports.
        [...this.slots.values()].map(({ worker, tree }) =>
          Promise.all([
            tree.close().catch((err: unknown) => this.bus.emit({ type: 'warning', message: `closing watcher: ${errorMessage(err)}` })),
            worker.shutdown(),
          ]),
        ),
      );
    })();
    return this.stopping;
  }
}

export class UnknownWorkerError extends DevsupError {
  constructor(name: string, known: string[]) {
    super(`unknown worker "${name}"; workers: ${known.join(', ') || 'none'}`, 'unknown-worker', 2);
  }
}

async function unreliableRoots(roots: string[]): Promise<string[]> {
  const flags = await Promise.all(roots.map((r) => shouldPoll(r).catch(() => false)));
  return roots.filter((_, i) => flags[i]);
}
