import type { CancelCause } from '../core/events.js';

export type RunResult = 'passed' | 'failed' | 'cancelled';

/** One finished task run, one JSON line in history.jsonl. */
export interface RunRecord {
  v: 1;
  worker: string;
  generation: number;
  /**
   * The worker's run number across devsup sessions (1, 2, 3 …), given when the record is appended;
   * generations start again at 1 with every session, run numbers do not.
   */
  run?: number;
  /** Identity of the code the run saw (a content hash), to tell which version failed. */
  codeId: string;
  changedFiles: string[];
  /** ISO 8601. */
  startedAt: string;
  durationMs: number;
  exitCode: number | null;
  signal: string | null;
  result: RunResult;
  /** Path of the saved output, when it was kept. */
  log?: string;
  /** The code id of each worker the task depends on, as it was when the run began. */
  deps?: Record<string, string>;
  /** For a cancelled run: what stopped it (the reason of the stop, the files that made it stale). */
  cancelledBy?: CancelCause;
}

const RESULTS: ReadonlySet<unknown> = new Set<RunResult>(['passed', 'failed', 'cancelled']);

function isNullableInt(x: unknown): boolean {
  return x === null || Number.isInteger(x);
}

/** Why `x` is not a RunRecord, or null when it is one. */
export function runRecordProblem(x: unknown): string | null {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'not an object';
  const r = x as Record<string, unknown>;
  if (r.v !== 1) return `unknown version ${JSON.stringify(r.v)}`;
  if (typeof r.worker !== 'string' || r.worker === '') return 'worker must be a non-empty string';
  if (!Number.isInteger(r.generation)) return 'generation must be an integer';
  if (typeof r.codeId !== 'string') return 'codeId must be a string';
  if (!Array.isArray(r.changedFiles) || !r.changedFiles.every((f) => typeof f === 'string')) {
    return 'changedFiles must be a list of strings';
  }
  if (typeof r.startedAt !== 'string' || Number.isNaN(Date.parse(r.startedAt))) {
    return 'startedAt must be an ISO date';
  }
  if (typeof r.durationMs !== 'number' || !(r.durationMs >= 0)) return 'durationMs must be >= 0';
  if (!isNullableInt(r.exitCode)) return 'exitCode must be an integer or null';
  if (r.signal !== null && typeof r.signal !== 'string') return 'signal must be a string or null';
  if (!RESULTS.has(r.result)) return `unknown result ${JSON.stringify(r.result)}`;
  if (r.log !== undefined && typeof r.log !== 'string') return 'log must be a string';
  if (r.run !== undefined && !(Number.isInteger(r.run) && (r.run as number) >= 1)) return 'run must be an integer >= 1';
  if (r.deps !== undefined && (typeof r.deps !== 'object' || r.deps === null || Array.isArray(r.deps) || !Object.values(r.deps).every((c) => typeof c === 'string'))) {
    return 'deps must map worker names to code ids';
  }
  if (r.cancelledBy !== undefined && !isCancelCause(r.cancelledBy)) return 'cancelledBy must be an object of stop and files';
  return null;
}

function isCancelCause(x: unknown): boolean {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const c = x as Record<string, unknown>;
  if (c.stop !== undefined && typeof c.stop !== 'string') return false;
  return c.files === undefined || (Array.isArray(c.files) && c.files.every((f) => typeof f === 'string'));
}

/** The record on one line, or null for a torn, corrupt or unknown-version line. */
export function parseRunLine(line: string): RunRecord | null {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch {
    return null;
  }
  return runRecordProblem(x) === null ? (x as RunRecord) : null;
}
