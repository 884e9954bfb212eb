import type { DevsupEvent, Listeners, TaskResult } from '../core/events.js';

/** What a view or a remote client may know of one worker. */
export interface WorkerView {
  name: string;
  kind: 'service' | 'task';
  /** starting, running, ready, stopping, backoff, exited, start-failed, idle (stopped by the user), done */
  state: string;
  generation: number;
  pid: number | null;
  startedAt: string | null;
  codeId: string | null;
  /**
   * Fresh: runs the code on disk. Stale: files changed since it started. Checking: started on the
   * tree as the previous run saved it, whose files are still being compared. None: nothing running.
   */
  verdict: 'fresh' | 'stale' | 'checking' | 'none';
  staleFiles: string[];
  /** When the running generation first became stale (ISO), null when fresh. */
  staleSince: string | null;
  ready: boolean;
  restarts: number;
  lastExit: { code: number | null; signal: string | null } | null;
  /** The last finished run; `codeId` is the code it ran on (null for a run started before any file was read). */
  lastTask: { result: TaskResult; durationMs: number; code: number | null; generation: number; codeId: string | null } | null;
  /** Recent task results, oldest first (for the dashboard's row of marks). */
  taskHistory: { result: TaskResult; durationMs: number }[];
  message: string | null;
  /** False when the output goes straight to the terminal of `devsup run`, so `logs` has none of it. */
  captured?: boolean;
  /** What the running generation's process tree listens on (Linux; empty elsewhere and when nothing runs). */
  listening: Listeners;
  /** Files left out of the watched tree after a restart loop, relative to the worker's directory. */
  unwatched?: string[];
}

/** The config file's last edit, which did not validate: what runs is the config before it. */
export interface ConfigRejected {
  file: string;
  problems: string[];
}

export interface SupervisorSnapshot {
  version: string;
  pid: number;
  root: string;
  holds: string[];
  workers: WorkerView[];
  /** Set while the config file holds an edit that did not validate. */
  configRejected?: ConfigRejected;
}

export interface LogLine {
  generation: number;
  stream: 'stdout' | 'stderr' | 'devsup';
  text: string;
  /** ms since the epoch */
  t: number;
}

export interface WaitFreshResult {
  ok: boolean;
  /** For tasks: the result of the run on the awaited code. */
  tasks: { worker: string; result: TaskResult; code: number | null }[];
  /** On timeout: what was still awaited, one phrase per worker. */
  waiting: string[];
  /** The config file's last edit does not validate: the workers it describes do not run. */
  configRejected?: ConfigRejected;
}

/**
 * The one interface every view and the control socket use. Keys in the dashboard and commands over
 * the socket call the same methods, so they behave the same.
 */
export interface SupervisorApi {
  snapshot(): SupervisorSnapshot;
  /** Listener gets live events; call snapshot() first for the state to start from. */
  subscribe(listener: (e: DevsupEvent) => void): () => void;
  restart(names: string[] | 'all'): Promise<void>;
  stop(name: string): Promise<void>;
  /** Writes to the running child's standard input; false when it has none (not running, no pipe). */
  writeInput(name: string, text: string): boolean;
  /** Closes the running child's standard input (the user's input ended). */
  endInput(name: string): void;
  start(name: string): Promise<void>;
  clearCaches(name: string): Promise<{ paths: string[]; bytes: number }>;
  logs(name: string, lines: number): LogLine[];
  /** Pauses restarts until the returned release is called. */
  hold(holder: string): () => void;
  waitFresh(names: string[], timeoutMs: number): Promise<WaitFreshResult>;
  shutdown(): Promise<void>;
}
