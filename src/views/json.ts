import type { Writable } from 'node:stream';
import { serializeEvent, type DevsupEvent } from '../core/events.js';
import { BATCH_CHARS, droppedSentence, OutputGate } from '../core/behind.js';

/**
 * One JSON object per line; the same serialiser the control socket uses. Output events are dropped
 * while the reader is far behind, then counted in one `note` per worker (see OutputGate).
 */
export function jsonView(out: Writable, opts: { skip?: DevsupEvent['type'][] } = {}): (e: DevsupEvent) => void {
  const skip = new Set(opts.skip ?? []);
  // Output events are joined (see BATCH_CHARS) and written when the batch is full or at the end of
  // this turn of the event loop; any other event first writes what is waiting, so the order stays.
  let batch = '';
  const flush = (): void => {
    if (batch === '') return;
    const text = batch;
    batch = '';
    out.write(text);
  };
  const write = (e: DevsupEvent): void => {
    flush();
    out.write(`${serializeEvent(e)}\n`);
  };
  const gate = new OutputGate(out, (worker, count) => write({ type: 'note', worker, message: droppedSentence(worker, count) }));
  return (e) => {
    if (skip.has(e.type)) return;
    if (e.type !== 'output') return write(e);
    if (!gate.admit(e.worker)) return;
    if (batch === '') setImmediate(flush);
    batch += `${serializeEvent(e)}\n`;
    if (batch.length >= BATCH_CHARS) flush();
  };
}
