/** How a child ended. Exactly one of code/signal is set, except for a spawn failure (both null). */
export interface ExitRecord {
  code: number | null;
  signal: NodeJS.Signals | null;
  durationMs: number;
}

/** Identity of a process that survives pid reuse: pid plus its exact start time from the OS. */
export interface ProcId {
  pid: number;
  /** Opaque and exact: start ticks on Linux, the `lstart` string elsewhere. */
  start: string;
}

export interface StopResult {
  signal: NodeJS.Signals;
  /** SIGKILL was needed after the grace period. */
  forced: boolean;
  /** Some process outlived SIGKILL plus the give-up period (e.g. stuck in uninterruptible sleep). */
  gaveUp: boolean;
  durationMs: number;
  /** How many processes the captured tree had. */
  treeSize: number;
  survivors: ProcId[];
  /** Every process a signal was delivered to: the only ones a caller may say it stopped. */
  signalled: ProcId[];
}
