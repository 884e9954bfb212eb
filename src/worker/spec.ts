import type { ClearSpec } from './clear-step.js';

/** What marks a service ready; without it a service is ready once spawned. */
export type ReadySpec = { log: RegExp } | { port: number; host: string };

export interface WorkerSpec {
  name: string;
  command: string[] | string;
  cwd: string;
  env: Record<string, string | undefined>;
  /** `.env` files (absolute) read before every start; `env` overrides them. */
  envFiles?: string[];
  kind: 'service' | 'task';
  /** What happens when the child exits by itself. */
  onExit: 'wait' | 'restart' | 'quit';
  restartOnChange: boolean;
  signal: NodeJS.Signals;
  graceMs: number;
  clear: ClearSpec;
  /** Python children get a fresh PYTHONPYCACHEPREFIX per generation. */
  python: boolean;
  stateDir: string;
  stdin: 'pipe' | 'ignore';
  output: 'inherit' | 'pipe';
  /**
   * A service whose own exit is a result worth recording (`run --on-exit wait` of a test command).
   * Once a generation of it exits by itself without a readiness signal of its own, it is one-shot:
   * its runs are judged like a task's (see `oneShot` in the machine).
   */
  exitIsResult?: boolean;
  /** With `exitIsResult`: known to run to completion before any generation has (a test runner). */
  oneShot?: boolean;
  /** Tasks: how many runs each new code gets (flake hunting). */
  repeat?: number;
  ready?: ReadySpec;
  /** Where the ports learned for readiness (when `ready` is not configured) are kept between runs. */
  portsFile?: string;
  /** How long a generation may take to reopen the learned ports (LEARNED_READY_TIMEOUT_MS). */
  learnedReadyTimeoutMs?: number;
}
