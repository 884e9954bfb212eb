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
export type StartReason = 'initial' | 'change' | 'manual' | 'crash' | 'config' | 'repeat' | 'caches';

export interface RestartContext {
  reason: StartReason;
  /** Files that changed since the previous generation started (relative to the first root). */
  changes?: ChangeSet;
  cleared?: { count: number; bytes: number };
  /** How long the previous tree took to die. */
  stopMs?: number;
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
       * Started on the tree as the previous run saved it, before the files were looked at: a
       * `fresh` event follows when they match, a `stale` one (and a restart) when they do not.
       */
      provisional?: true;
    }
  | { type: 'spawn-failed'; worker: string; generation: number; message: string }
  | {
      type: 'ready';
      worker: string;
      generation: number;
      /** `ports`: its tree listens again on what the previous generation listened on (nothing configured). */
      how: 'log' | 'port' | 'ports' | 'started';
      /** What its tree listens on at that moment (TCP ports, unix socket paths), when anything. */
      listening?: Listeners;
    }
  | { type: 'change'; worker: string; changes: ChangeSet; seq: number }
  | { type: 'stale'; worker: string; generation: number; files: string[]; /** false when the worker's policy keeps it running stale */ restarting: boolean }
  | { type: 'fresh'; worker: string; generation: number }
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
    }
  | {
      /** After a task with `repeat` ran that many times on one code id. */
      type: 'task-summary';
      worker: string;
      codeId: string;
      runs: number;
      failed: number;
    }
  | { type: 'backoff'; worker: string; attempt: number; delayMs: number }
  | { type: 'waiting'; worker: string; for: 'change' }
  | { type: 'hold'; holder: string; holds: number }
  | { type: 'release'; holder: string; holds: number }
  | { type: 'output'; worker: string; generation: number; stream: 'stdout' | 'stderr'; line: string }
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
