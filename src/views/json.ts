import type { Writable } from 'node:stream';
import { serializeEvent, type DevsupEvent } from '../core/events.js';

/** One JSON object per line; the same serialiser the control socket uses. */
export function jsonView(out: Writable, opts: { skip?: DevsupEvent['type'][] } = {}): (e: DevsupEvent) => void {
  const skip = new Set(opts.skip ?? []);
  return (e) => {
    if (!skip.has(e.type)) out.write(`${serializeEvent(e)}\n`);
  };
}
