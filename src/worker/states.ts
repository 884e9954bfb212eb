import type { Listeners } from '../core/events.js';
import { constants } from 'node:os';
import { assertNever, type DevsupEvent, type RestartContext, type StartReason } from '../core/events.js';
import type { SpawnFailure } from '../process/spawn.js';
import type { ExitRecord, ProcId, StopResult } from '../process/types.js';
import type { Snapshot } from '../watch/snapshot.js';
import type { Child } from './port.js';
import type { ReadyHow } from './readiness.js';
import type { WorkerSpec } from './spec.js';
import { EMPTY_BOOK, type DepCodes, type TaskBook } from './tasks.js';

/**
 * The vocabulary of the worker lifecycle: its states (each phase carrying only the data valid in
 * it), the inputs that move it and the effects it asks for. The transitions are in machine.ts.
 */

/** Processes a child left behind when it exited by itself (its group, its descendants). */
export interface Leftovers {
  root: ProcId;
  members: ProcId[];
}

/** What follows a stop once the tree is gone. */
export type AfterStop = { next: 'start'; ctx: RestartContext } | { next: 'idle' } | { next: 'done' };

export type Phase =
  /** Not started yet, or stopped by the user; `last` is what the last generation ran on. */
  | { kind: 'idle'; last?: Snapshot }
  | {
      kind: 'starting';
      gen: number;
      /** deps: waiting for what it depends on; sweep: stopping leftovers; clear: caches; spawn. */
      step: 'deps' | 'sweep' | 'clear' | 'spawn';
      ctx: RestartContext;
      /** At the deps step: the dependencies not ready yet, as last looked at. */
      waitingFor?: readonly string[];
      /** performance-free clock: ms since the epoch when the start began (for spawnMs). */
      t0: number;
      last?: Snapshot;
      leftovers?: Leftovers;
      deps?: DepCodes;
      /** Set once the caches are cleared: the code the child is spawned on, and when (its DEVSUP_STARTED_AT). */
      snapshot?: Snapshot;
      startedAt?: number;
      searchAfter?: boolean;
      cleared?: { count: number; bytes: number };
      /** Requests that arrived while the start was under way, applied once it is. */
      cancel?: 'idle' | 'done';
      restartAfter?: StartReason;
      changedDuring?: Snapshot;
    }
  | {
      kind: 'running';
      gen: number;
      pid: number;
      startedAt: number;
      snapshot: Snapshot;
      child: Child;
      ready: boolean;
      /** Ports the readiness probe saw this generation listen on. */
      ports?: number[];
      /** Ready by a signal of its own (a log line, a port), not only by being spawned. */
      signalled: boolean;
      staleSince: number | null;
      /** The files that made this generation stale, as the last change told them. */
      staleFiles?: string[];
      deps?: DepCodes;
    }
  | {
      kind: 'stopping';
      gen: number;
      pid: number;
      reason: string;
      snapshot: Snapshot;
      root: ProcId;
      /** The child being stopped; absent when only a dead child's leftovers are swept. */
      child?: Child;
      captured?: ProcId[];
      then: AfterStop;
      attempt: number;
      /** A task run stopped before it finished is filed as cancelled, with `reason` and these files as its cause. */
      cancelRun: boolean;
      staleFiles?: string[];
      deps?: DepCodes;
      exit?: ExitRecord;
    }
  | { kind: 'backoff'; gen: number; attempt: number; until: number; snapshot: Snapshot; leftovers?: Leftovers }
  | {
      kind: 'exited';
      gen: number;
      exit: ExitRecord;
      snapshot: Snapshot;
      leftovers?: Leftovers;
      /** A task run on a provisional snapshot waits for the files to be compared before it is filed. */
      unfiled?: { deps?: DepCodes; depsHeld: boolean };
    }
  | { kind: 'start-failed'; gen: number; message: string; snapshot?: Snapshot }
  | { kind: 'done' };

export type PhaseKind = Phase['kind'];

export interface MachineState {
  phase: Phase;
  /** The last generation number handed out. */
  gen: number;
  /** Bumped on every change of phase; a timer armed in an older epoch is ignored. */
  epoch: number;
  restarts: number;
  lastExit: ExitRecord | null;
  /** Consecutive crash restarts, for the backoff delay. */
  crashes: number;
  tasks: TaskBook;
  /** A `run` command that exits by itself: its runs are results, judged like a task's. */
  oneShot: boolean;
}

export const INITIAL: MachineState = { phase: { kind: 'idle' }, gen: 0, epoch: 0, restarts: 0, lastExit: null, crashes: 0, tasks: EMPTY_BOOK, oneShot: false };

export interface MachineConfig {
  spec: WorkerSpec;
  /** The worker depends on others: every start first waits for them (the `gate` effect). */
  gated: boolean;
  /** No readiness probe applies: a service is ready once spawned (see readiness.ts). */
  readyAtSpawn: boolean;
  /** How long past the grace period a stop may take before it counts as failed (default 8 s). */
  stopSlackMs?: number;
}

/** What the dependencies look like right now, as the supervisor judges them. */
export type DepCheck = { ok: true; codes: DepCodes } | { ok: false; waiting: string[] };

export type TimerName = 'backoff' | 'stop-retry' | 'stop-watchdog' | 'cache-search';

export type Input =
  | { type: 'start'; reason: StartReason }
  | { type: 'changed'; latest: Snapshot }
  | { type: 'restart'; latest: Snapshot; reason: 'manual' | 'dependency' }
  | { type: 'stop' }
  | { type: 'shutdown' }
  | { type: 'depsReady'; gen: number; codes: DepCodes }
  | { type: 'depsWaiting'; gen: number; waiting: readonly string[] }
  | { type: 'cleared'; gen: number; env: Record<string, string>; count: number; bytes: number; snapshot: Snapshot; searchAfter: boolean; error?: string }
  | { type: 'spawned'; gen: number; child: Child }
  | { type: 'spawnFailed'; gen: number; message: string; reason: SpawnFailure }
  | { type: 'readySeen'; gen: number; how: ReadyHow; ports?: number[]; listening?: Listeners }
  | { type: 'readyTimedOut'; gen: number; message: string }
  | { type: 'exited'; gen: number; exit: ExitRecord; leftovers?: Leftovers; depsNow?: DepCheck }
  | { type: 'stopped'; gen: number; attempt: number; result: StopResult; exit?: ExitRecord }
  | { type: 'stopFailed'; gen: number; attempt: number; message: string }
  | { type: 'confirmed'; provisional: Snapshot; real: Snapshot }
  | { type: 'refuted'; provisional: Snapshot }
  | { type: 'cachesFound'; gen: number; paths: string[] }
  | { type: 'timer'; name: TimerName; epoch: number };

export type Effect =
  | { type: 'emit'; event: DevsupEvent }
  | { type: 'gate'; gen: number }
  | { type: 'clear'; gen: number }
  | { type: 'spawn'; gen: number; env: Record<string, string | undefined> }
  | { type: 'attach'; gen: number; child: Child }
  | { type: 'watch'; gen: number; child: Child }
  | { type: 'probeReady'; gen: number; child: Child }
  | { type: 'cancelReady'; gen: number }
  | { type: 'verify'; snapshot: Snapshot }
  | { type: 'stop'; gen: number; attempt: number; root: ProcId; child?: Child; captured?: ProcId[] }
  | { type: 'killGroup'; pid: number; child: Child }
  | { type: 'searchCaches'; gen: number }
  | { type: 'arm'; name: TimerName; ms: number; epoch: number }
  | { type: 'quit'; code: number };

export interface Step {
  next: MachineState;
  effects: Effect[];
}

/** Shells report death by signal N as 128 + N; `--on-exit quit` does the same. */
export function exitCodeOf(rec: ExitRecord): number {
  return rec.code ?? 128 + (rec.signal ? (constants.signals[rec.signal] ?? 0) : 0);
}

/** What a shell answers when a command cannot be started: 127 not found, 126 not executable. */
export function spawnFailureCode(reason: SpawnFailure): number {
  return reason === 'not-found' ? 127 : reason === 'permission' ? 126 : 1;
}

/** The snapshot the current or last generation started on. */
export function spawnSnapshot(p: Phase): Snapshot | undefined {
  switch (p.kind) {
    case 'idle':
      return p.last;
    case 'starting':
      return p.snapshot ?? p.last;
    case 'running':
    case 'stopping':
    case 'backoff':
    case 'exited':
      return p.snapshot;
    case 'start-failed':
      return p.snapshot;
    case 'done':
      return undefined;
    default:
      return assertNever(p);
  }
}

/** Phases in which nothing is under way: a command resolves once the worker reaches one. */
export function isResting(p: Phase): boolean {
  return p.kind !== 'stopping' && !(p.kind === 'starting' && p.step !== 'deps');
}

/** Judged like a task: configured as one, or a `run` command seen to exit by itself. */
export function runsAsTask(cfg: MachineConfig, s: MachineState): boolean {
  return cfg.spec.kind === 'task' || (cfg.spec.exitIsResult === true && s.oneShot);
}
