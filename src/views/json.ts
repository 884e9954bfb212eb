import type { Writable } from 'node:stream';
import { serializeEvent, type DevsupEvent } from '../core/events.js';
import { droppedSentence, lineBatcher, OutputGate } from '../core/behind.js';

/**
 * One JSON object per line; the same serialiser the control socket uses. Output events are dropped
 * while the reader is far behind, then counted in one `note` per worker (see OutputGate).
 */
export function jsonView(out: Writable, opts: { skip?: DevsupEvent['type'][] } = {}): (e: DevsupEvent) => void {
  const skip = new Set(opts.skip ?? []);
  // Output events are batched; any other event first writes what is waiting, so the order stays.
  const batch = lineBatcher(out);
  const write = (e: DevsupEvent): void => {
    batch.flush();
    out.write(`${serializeEvent(e)}\n`);
  };
  const gate = new OutputGate(out, (worker, count) => write({ type: 'note', worker, message: droppedSentence(worker, count) }));
  return (e) => {
    if (skip.has(e.type)) return;
    if (e.type !== 'output') return write(e);
    if (!gate.admit(e.worker)) return;
    batch.add(`${serializeEvent(e)}\n`);
  };
}
