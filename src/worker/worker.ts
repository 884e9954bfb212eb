import type { Writable } from 'node:stream';
import type { Bus } from '../core/bus.js';
import type { Listeners, StartReason } from '../core/events.js';
import { NO_LISTENERS } from '../process/listening.js';
import { LearnedReadiness } from './learned-ready.js';
import { learnedProbe } from './readiness.js';
import type { ExitRecord } from '../process/types.js';
import { diffSnapshots, type Snapshot } from '../watch/snapshot.js';
import { runsAsTask, spawnSnapshot, type Phase } from './machine.js';
import { relativeChanges } from './paths.js';
import { Runner, type RunnerHooks, type RunnerOptions } from './runner.js';
import type { WorkerSpec } from './spec.js';
import type { TaskRun } from './tasks.js';

export { BOOT_HEAD_START_MS } from './machine.js';
export type { WorkerSpec, ReadySpec } from './spec.js';
export type { TaskRun } from './tasks.js';
export type { RunnerHooks as WorkerHooks } from './runner.js';

/** What a worker is doing now, with the data valid in that phase. */
export type WorkerState = Phase;

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
  /** Judged like a task: a task, or a `run` command seen to exit by itself. */
  runsAsTask: boolean;
  /** What the running generation's tree listens on (as last looked at; empty outside Linux). */
  listening: Listeners;
}

/**
 * One supervised command: the lifecycle machine (machine.ts) driven by its runner (runner.ts).
 * Every method resolves once its input has been applied and the worker rests again.
 */
export class Worker {
  private readonly runner: Runner;
  /** Services: what the tree listens on, learned to tell readiness when none is configured. */
  private readonly learned: LearnedReadiness | undefined;

  constructor(
    readonly spec: WorkerSpec,
    bus: Bus,
    private readonly hooks: RunnerHooks,
    opts: RunnerOptions & { gated?: boolean } = {},
  ) {
    // Learning needs a place to keep what it learned: `run` and `up` give one, a bare worker is ready once spawned.
    const learned =
      spec.kind === 'service' && spec.portsFile !== undefined
        ? new LearnedReadiness({
            file: spec.portsFile,
            command: JSON.stringify(spec.command),
            cwd: spec.cwd,
            timeoutMs: spec.learnedReadyTimeoutMs,
            onWarning: (message) => bus.emit({ type: 'warning', worker: spec.name, message }),
            isReady: (gen) => {
              const p = this.runner.state.phase;
              return p.kind === 'running' && p.gen === gen && p.ready;
            },
          })
        : undefined;
    this.learned = learned;
    const onChild = hooks.onChild;
    const runnerHooks: RunnerHooks = learned
      ? {
          ...hooks,
          // Every generation's sockets are looked at now and then: for the views, and to learn them.
          onChild: (child, gen) => {
            learned.observe(gen, child.pid);
            onChild?.(child, gen);
          },
        }
      : hooks;
    const unconfiguredProbe = opts.unconfiguredProbe ?? (learned ? learnedProbe(learned, spec.learnedReadyTimeoutMs) : undefined);
    this.runner = new Runner(spec, bus, runnerHooks, { ...opts, unconfiguredProbe });
  }

  get current(): WorkerState {
    return this.runner.state.phase;
  }

  /** Service or task as the views should judge it now (a one-shot `run` command is a task). */
  get kind(): 'service' | 'task' {
    return runsAsTask(this.runner.config, this.runner.state) ? 'task' : 'service';
  }

  start(reason: StartReason = 'initial'): Promise<void> {
    return this.runner.command({ type: 'start', reason });
  }

  /** A settled content change in the worker's tree. */
  changed(): Promise<void> {
    return this.runner.command({ type: 'changed', latest: this.hooks.latest() });
  }

  /** `dependency`: what the worker depends on got new code; a run under way is cancelled. */
  restart(reason: 'manual' | 'dependency' = 'manual'): Promise<void> {
    return this.runner.command({ type: 'restart', latest: this.hooks.latest(), reason });
  }

  /** Stops the tree and stays stopped until `start()`. */
  stop(): Promise<void> {
    return this.runner.command({ type: 'stop' });
  }

  async shutdown(): Promise<void> {
    await this.runner.command({ type: 'shutdown' });
    await this.learned?.close();
  }

  /** A dependency changed state: a start waiting for it may go on. */
  depsChanged(): void {
    this.runner.depsChanged();
  }

  /** Input typed by the user for the child (everything but devsup's own commands). */
  get stdin(): Writable | undefined {
    const s = this.current;
    return s.kind === 'running' ? s.child.stdin : undefined;
  }

  status(): WorkerStatus {
    const m = this.runner.state;
    const s = m.phase;
    const running = s.kind === 'running' ? s : undefined;
    let staleFiles: string[] = [];
    if (running) {
      const c = relativeChanges(diffSnapshots(running.snapshot, this.hooks.latest()), this.spec.cwd);
      staleFiles = [...c.modified, ...c.added, ...c.removed];
    }
    return {
      name: this.spec.name,
      state: s.kind,
      generation: m.gen,
      pid: running?.pid ?? null,
      startedAt: running ? new Date(running.startedAt).toISOString() : null,
      // A start made before any file was read has no code id until its first look confirms one.
      codeId: running && running.snapshot.codeId !== '' ? running.snapshot.codeId : null,
      staleFiles,
      staleSince: running && staleFiles.length > 0 ? running.staleSince : null,
      checking: running?.snapshot.provisional === true,
      lastExit: m.lastExit,
      ready: running?.ready === true,
      restarts: m.restarts,
      spawnSnapshot: spawnSnapshot(s) ?? null,
      tasks: m.tasks.runs,
      runsAsTask: runsAsTask(this.runner.config, m),
      listening: running ? (this.learned?.listening() ?? NO_LISTENERS) : NO_LISTENERS,
    };
  }
}
