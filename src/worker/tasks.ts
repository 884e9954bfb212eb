import type { CancelCause, ChangeSet, DevsupEvent, TaskResult } from '../core/events.js';
import type { ExitRecord } from '../process/types.js';
import { diffSnapshots, type Snapshot } from '../watch/snapshot.js';

/** The code id of each worker a run depends on, as it was when the run began. */
export type DepCodes = Readonly<Record<string, string>>;

/** A finished task run, kept to answer "did the run on this code pass?". */
export interface TaskRun {
  generation: number;
  snapshot: Snapshot;
  result: TaskResult;
  code: number | null;
  durationMs: number;
  deps?: DepCodes;
}

/** Finished runs of a worker across generations (pure data; every update returns a new book). */
export interface TaskBook {
  runs: readonly TaskRun[];
  /** The snapshot of the last run that was not cancelled: changed files are counted from it. */
  lastCounted?: Snapshot;
}

export const EMPTY_BOOK: TaskBook = { runs: [] };

/** Files added, modified or removed between the last counted run and this one. */
function countChanges(c: ChangeSet): number {
  return c.added.length + c.modified.length + c.removed.length;
}

/** Files the book as it was this one run changes, plus the event telling it. */
export function fileRun(
  book: TaskBook,
  worker: string,
  run: TaskRun,
  exit: ExitRecord,
  keep: number,
  cancelledBy?: CancelCause,
): { book: TaskBook; event: DevsupEvent } {
  const changed = book.lastCounted ? countChanges(diffSnapshots(book.lastCounted, run.snapshot)) : 0;
  const runs = [...book.runs, run];
  if (runs.length > keep) runs.shift();
  const next: TaskBook = { runs, lastCounted: run.result === 'cancelled' ? book.lastCounted : run.snapshot };
  const event: DevsupEvent = {
    type: 'task-finished',
    worker,
    generation: run.generation,
    result: run.result,
    code: exit.code,
    signal: exit.signal,
    durationMs: exit.durationMs,
    changedFiles: changed,
    ...(run.deps && Object.keys(run.deps).length > 0 ? { deps: { ...run.deps } } : {}),
    ...(cancelledBy ? { cancelledBy } : {}),
  };
  return { book: next, event };
}

/**
 * After a finished run on `codeId`: whether the task runs again (fewer than `repeat` results on this
 * code), or the summary due when the count has just been reached.
 */
export function repeatDue(book: TaskBook, codeId: string, repeat: number): { again: boolean; summary?: { runs: number; failed: number } } {
  if (repeat <= 1) return { again: false };
  const runs = book.runs.filter((r) => r.result !== 'cancelled' && r.snapshot.codeId === codeId);
  if (runs.length < repeat) return { again: true };
  if (runs.length === repeat) return { again: false, summary: { runs: runs.length, failed: runs.filter((r) => r.result === 'failed').length } };
  return { again: false };
}

/** The latest run that counts (not cancelled), if any. */
export function lastResult(book: TaskBook): TaskRun | undefined {
  for (let i = book.runs.length - 1; i >= 0; i--) if (book.runs[i]!.result !== 'cancelled') return book.runs[i];
  return undefined;
}
