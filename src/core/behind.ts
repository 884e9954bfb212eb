import type { Writable } from 'node:stream';

/**
 * Child lines written to one stream are joined up to about this many characters per write: one write
 * per line costs a system call and a queued request each, and one per turn of the event loop can be
 * megabytes, which stall the loop while they are encoded and sit in memory while the pipe takes them.
 */
export const BATCH_CHARS = 64 * 1024;

/**
 * Child lines for `out`, joined (see BATCH_CHARS) and written when the batch is full or at the end
 * of this turn of the event loop, whichever comes first. `flush` writes what waits at once, for a
 * line of devsup's own that must come after them.
 */
export function lineBatcher(out: Writable): { add(text: string): void; flush(): void } {
  let batch = '';
  const flush = (): void => {
    if (batch === '') return;
    const text = batch;
    batch = '';
    out.write(text);
  };
  return {
    add(text) {
      if (batch === '') setImmediate(flush);
      batch += text;
      if (batch.length >= BATCH_CHARS) flush();
    },
    flush,
  };
}

/** How far the reader of `up --no-tui` or `--json` output, or of a control subscriber, may fall behind before child output is dropped. */
export const MAX_BEHIND_BYTES = 4 * 1024 * 1024;

/**
 * Decides, line by line, whether child output is written to a stream whose reader may be slower
 * than the children (a pipe into a pager, a slow terminal, a stalled consumer). Node queues every
 * write to a pipe in memory, so a slow reader would grow devsup without bound; waiting for it
 * instead would stop devsup reading every child's pipes, stall the children on full pipes, and
 * stop restarts and the control socket with them. So while the reader is more than MAX_BEHIND_BYTES
 * behind, child lines are dropped and counted per worker until it has caught up entirely; then each
 * worker that lost lines gets one marker saying how many. devsup's own lines are never dropped
 * (they are few), and every child line still reaches `devsup logs` and the task logs.
 */
export class OutputGate {
  private readonly dropped = new Map<string, number>();
  private dropping = false;

  constructor(
    private readonly out: Writable,
    private readonly marker: (worker: string, count: number) => void,
    private readonly limit = MAX_BEHIND_BYTES,
  ) {}

  /** Whether a line of `worker`'s output may be written now; counts it when not. */
  admit(worker: string): boolean {
    if (!this.dropping) {
      if (this.out.writableLength <= this.limit) return true;
      this.dropping = true;
      // 'drain' comes once the queue is empty: a write has long since returned false.
      this.out.once('drain', () => this.resume());
    }
    this.dropped.set(worker, (this.dropped.get(worker) ?? 0) + 1);
    return false;
  }

  /** Lines dropped and not yet reported, per worker. */
  pending(): ReadonlyMap<string, number> {
    return this.dropped;
  }

  private resume(): void {
    this.dropping = false;
    const counts = [...this.dropped];
    this.dropped.clear();
    for (const [worker, n] of counts) this.marker(worker, n);
  }
}

/** The marker's words, shared by the plain and the JSON view and the control socket. */
export function droppedSentence(worker: string, count: number, where = 'shown: the reader of this output fell behind'): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? 'line' : 'lines'} of output not ${where} (devsup logs ${worker} has the newest)`;
}
