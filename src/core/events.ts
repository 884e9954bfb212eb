/**
 * Everything the core tells its views, as one closed union. Views (plain, json, dashboard,
 * control socket) subscribe and never decide anything themselves. Field names are a stable
 * interface: the JSON view prints these objects as they are, plus `v` and `t`.
 */

export interface ChangeSet {
  added: string[];
  modified: string[];
  removed: string[];
}

/** What a process tree accepts connections on: TCP ports, and unix socket paths (`@name`: abstract). */
export interface Listeners {
  tcp: number[];
  unix: string[];
}

/** `:4310 /tmp/app.sock`: how every view names what a worker listens on. */
export function describeListeners(l: Listeners | undefined): string {
  return l ? [...l.tcp.map((p) => `:${p}`), ...l.unix].join(' ') : '';
}

/** A process found listening on a port a worker needed. */
export interface PortHolderInfo {
  pid: number;
  /** Its command line, quoted for a shell. */
  command: string;
  startedAt: string;
  /** Started by devsup (it carries devsup's environment): a leftover, with the generation and code it ran. */
  devsup?: { generation?: number; codeId?: string };
  /** It belongs to the project, as `devsup ps` judges (works in it or runs a file of it). */
  inProject: boolean;
  /** Set for a project process: whether files it runs changed since it started. */
  stale?: boolean;
  /** The command that stops it. */
  stop: string;
}

export type StopHow = 'signal' | 'killed' | 'gave-up' | 'already-exited';
export type TaskResult = 'passed' | 'failed' | 'cancelled';
/** `caches`: caches were found after a start that did not wait for the cache search (an early start). */
/** `dependency`: a worker this one depends on got new code and is ready on it (tasks only). */
export type StartReason = 'initial' | 'change' | 'manual' | 'crash' | 'config' | 'repeat' | 'caches' | 'dependency';

export interface RestartContext {
  reason: StartReason;
  /** Files that changed since the previous generation started (relative to the first root). */
  changes?: ChangeSet;
  cleared?: { count: number; bytes: number };
  /** How long the previous tree took to die. */
  stopMs?: number;
}

/**
 * Why a task run was cancelled: the reason its stop was asked for (`change`, `caches found`,
 * `restart requested`, `a dependency changed`, `stop requested`, `shutting down`), and the files
 * that made it stale. A run cancelled without a stop (it had ended, but what it depends on got new
 * code meanwhile) has neither.
 */
export interface CancelCause {
  stop?: string;
  files?: string[];
}

export type DevsupEvent =
  | { type: 'watching'; worker: string; roots: string[]; backend: string; files: number; fallbackReason?: string }
  | { type: 'worker-starting'; worker: string; generation: number; reason: StartReason }
  | {
      type: 'worker-started';
      worker: string;
      generation: number;
      pid: number;
      codeId: string;
      startedAt: string;
      /** From the start request to the spawned pid. */
      spawnMs: number;
      restart?: RestartContext;
      /**
       * Started before the files were looked at: on the tree as the previous run saved it, or,
       * without a saved index, before any file was read (then `codeId` is empty). A `fresh` event
       * follows when nothing differs, a `stale` one (and a restart) when something does.
       */
      provisional?: true;
    }
  | {
      type: 'spawn-failed';
      worker: string;
      generation: number;
      message: string;
      /** `--on-exit quit`: devsup ends with this code (127 not found, 126 not executable) instead of waiting. */
      exitCode?: number;
    }
  | {
      type: 'ready';
      worker: string;
      generation: number;
      /** `ports`: its tree listens again on what the previous generation listened on (nothing configured). */
      how: 'log' | 'port' | 'ports' | 'started';
      /** The TCP ports the probe saw accepting connections, when it looked at ports. */
      ports?: number[];
      /** What its tree listens on at that moment (TCP ports, unix socket paths), when anything. */
      listening?: Listeners;
    }
  | { type: 'change'; worker: string; changes: ChangeSet; seq: number }
  | { type: 'stale'; worker: string; generation: number; files: string[]; /** false when the worker's policy keeps it running stale */ restarting: boolean }
  /** A provisional start confirmed: `codeId` is the code it runs (its first known one, for a start made before any file was read). */
  | { type: 'fresh'; worker: string; generation: number; codeId: string }
  | { type: 'stopping'; worker: string; generation: number; pid: number; reason: string; signal: string }
  | { type: 'stopped'; worker: string; generation: number; how: StopHow; durationMs: number; treeSize: number; survivors: number }
  | { type: 'caches-cleared'; worker: string; paths: string[]; bytes: number; command?: { ok: boolean; code: number | null } }
  | { type: 'exited'; worker: string; generation: number; code: number | null; signal: string | null; durationMs: number }
  | {
      type: 'task-finished';
      worker: string;
      generation: number;
      result: TaskResult;
      code: number | null;
      signal: string | null;
      durationMs: number;
      changedFiles: number;
      /** The code id of each worker the task depends on, as it was when the run began. */
      deps?: Record<string, string>;
      /** Why a cancelled run was cancelled (only when `result` is `cancelled`). */
      cancelledBy?: CancelCause;
    }
  | {
      /** After a task with `repeat` ran that many times on one code id. */
      type: 'task-summary';
      worker: string;
      codeId: string;
      runs: number;
      failed: number;
    }
  | {
      /** Per-test counts of a task's runs on one code id, from its JUnit report, after each run. */
      type: 'task-tests';
      worker: string;
      codeId: string;
      runs: number;
      failed: number;
      /** Cases that failed at least once on this code, most failures first (at most 10). */
      failing: { id: string; failed: number; runs: number }[];
      /** Cases that failed in the run just finished. */
      newFailures: string[];
    }
  | { type: 'backoff'; worker: string; attempt: number; delayMs: number }
  | { type: 'waiting'; worker: string; for: 'change' }
  | { type: 'hold'; holder: string; holds: number }
  | { type: 'release'; holder: string; holds: number }
  | { type: 'output'; worker: string; generation: number; stream: 'stdout' | 'stderr'; line: string }
  /**
   * The generation's stdout and stderr have both ended: every line it printed has been told. Only
   * for output devsup reads (never for a child whose output goes straight to the terminal); a
   * grandchild that keeps the pipes open keeps it back, however long after the exit.
   */
  | { type: 'output-ended'; worker: string; generation: number }
  | {
      /**
       * The same files changed shortly after every start, generation after generation: the child
       * writes into its own watched tree. They are no longer watched; `ignore` makes that permanent.
       */
      type: 'loop';
      worker: string;
      files: string[];
      generations: number;
      /** `--ignore` values (relative to the watched root) that leave the files out. */
      ignore: string[];
    }
  | {
      /**
       * The config file was edited: `problems` lists why it cannot be applied (the last valid one
       * keeps running), and an empty list says the file is valid again and is what runs.
       */
      type: 'config-check';
      file: string;
      problems: string[];
    }
  | { type: 'warning'; worker?: string; message: string }
  /** A child failed for a port another process holds; `otherUsers`: uids of holders devsup cannot see. */
  | { type: 'port-taken'; worker: string; generation: number; port: number; holders: PortHolderInfo[]; otherUsers: number[] }
  /** Something devsup decided that the user would want to know, though nothing is wrong. */
  | { type: 'note'; worker?: string; message: string }
  | { type: 'shutdown'; signal: string | null };

export type EventType = DevsupEvent['type'];
export type EventOf<T extends EventType> = Extract<DevsupEvent, { type: T }>;

export function assertNever(x: never): never {
  throw new Error(`unexpected value: ${JSON.stringify(x)}`);
}

/** Version of the event stream's shape; bumped only on an incompatible change. */
export const EVENT_VERSION = 1;

/** One event as JSON, as `--json` prints it and the control socket sends it. */
export function serializeEvent(e: DevsupEvent, now = new Date()): string {
  return JSON.stringify({ v: EVENT_VERSION, t: now.toISOString(), ...e });
}
