import type { Writable } from 'node:stream';
import type { DevsupEvent } from '../core/events.js';

/** Version of the event stream's shape; bumped only on an incompatible change. */
export const EVENT_VERSION = 1;

export function serializeEvent(e: DevsupEvent, now = new Date()): string {
  return JSON.stringify({ v: EVENT_VERSION, t: now.toISOString(), ...e });
}

/** One JSON object per line; the same serialiser the control socket uses. */
export function jsonView(out: Writable, opts: { skip?: DevsupEvent['type'][] } = {}): (e: DevsupEvent) => void {
  const skip = new Set(opts.skip ?? []);
  return (e) => {
    if (!skip.has(e.type)) out.write(`${serializeEvent(e)}\n`);
  };
}
