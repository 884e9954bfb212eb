import type { DevsupEvent } from '../core/events.js';

/**
 * Why a task run was cancelled, as the events before its `task-finished` told it: the reason its
 * stop was asked for (`change`, `caches found`, `restart requested`, `a dependency changed`, `stop
 * requested`, `shutting down`), and the files that made it stale. A run cancelled without a stop
 * (it had ended, but what it depends on got new code meanwhile) has neither.
 */
export interface CancelCause {
  stop?: string;
  files?: string[];
}

interface Seen extends CancelCause {
  generation: number;
}

/**
 * Follows the events of every worker and keeps, for the generation each one runs, what would
 * explain a cancellation of it. Feed it every event, in order, before asking about a run.
 */
export class CancelCauses {
  private readonly seen = new Map<string, Seen>();

  see(e: DevsupEvent): void {
    if (e.type === 'worker-started') this.seen.delete(e.worker);
    else if (e.type === 'stale') this.at(e.worker, e.generation).files = [...e.files];
    else if (e.type === 'stopping') this.at(e.worker, e.generation).stop = e.reason;
  }

  /** What is known of why generation `generation` of `worker` was cancelled. */
  of(worker: string, generation: number): CancelCause {
    const s = this.seen.get(worker);
    if (!s || s.generation !== generation) return {};
    return { ...(s.stop !== undefined ? { stop: s.stop } : {}), ...(s.files ? { files: [...s.files] } : {}) };
  }

  private at(worker: string, generation: number): Seen {
    let s = this.seen.get(worker);
    // Stale files of one generation say nothing about the next.
    if (!s || s.generation !== generation) this.seen.set(worker, (s = { generation }));
    return s;
  }
}
