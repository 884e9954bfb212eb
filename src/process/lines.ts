import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';

/** A line longer than this many bytes is cut, so a child that never prints a newline cannot grow our memory. */
export const MAX_LINE = 16 * 1024;

/**
 * Characters of output a worker's scrollback keeps (`devsup logs`, the dashboard), whatever its
 * count of lines: 5,000 ordinary lines take about 400,000, 5,000 cut ones would take 80 million.
 */
export const SCROLLBACK_CHARS = 8 * 1024 * 1024;

/** Ends a cut line, so nobody mistakes its head for all of it; the rest, up to the next newline, is dropped. */
export const CUT_MARK = ` [devsup: line cut at ${MAX_LINE / 1024} KiB]`;

const NL = 0x0a;
const CR = 0x0d;

/**
 * Settles once every one of `streams` has ended, been destroyed or failed (at once for those that
 * already have): nothing more of what the child wrote is left to read. Asked after readLines, it
 * settles after the last line has been told.
 */
export function outputEnded(streams: readonly (Readable | undefined)[]): Promise<void> {
  const open = streams.filter((s): s is Readable => s !== undefined);
  return Promise.all(open.map((s) => finished(s).catch(() => undefined))).then(() => undefined);
}

/**
 * Calls `onLine` for every line of `stream`, CRLF and an unterminated last line included. Lines are
 * split on the bytes and each decoded on its own: a newline byte never occurs inside a UTF-8
 * sequence, and a line decoded from the chunk's bytes is a string of its own, where a slice of the
 * chunk decoded as one string would keep the whole chunk alive for as long as the line is kept.
 * Invalid UTF-8 becomes U+FFFD; nothing a child writes makes this throw.
 */
export function readLines(stream: Readable, onLine: (line: string) => void): void {
  // An unterminated head, waiting for its newline; never more than MAX_LINE bytes.
  let held: Buffer[] = [];
  let heldBytes = 0;
  // Inside a line already cut: its bytes are dropped until its newline.
  let skipping = false;

  const emit = (buf: Buffer, from: number, to: number): void => {
    let end = to > from && buf[to - 1] === CR ? to - 1 : to;
    if (end - from <= MAX_LINE) {
      onLine(buf.toString('utf8', from, end));
      return;
    }
    end = from + MAX_LINE;
    // Back to the start of a character, so the cut does not leave half of one behind.
    while (end > from && (buf[end]! & 0xc0) === 0x80) end--;
    onLine(buf.toString('utf8', from, end) + CUT_MARK);
  };
  const joinHeld = (tail: Buffer): Buffer => {
    const all = Buffer.concat([...held, tail], heldBytes + tail.length);
    held = [];
    heldBytes = 0;
    return all;
  };

  stream.on('data', (chunk: Buffer | string) => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    if (skipping) {
      const nl = buf.indexOf(NL);
      if (nl < 0) return;
      skipping = false;
      start = nl + 1;
    }
    let nl: number;
    while ((nl = buf.indexOf(NL, start)) >= 0) {
      if (heldBytes > 0) {
        const line = joinHeld(buf.subarray(start, nl));
        emit(line, 0, line.length);
      } else emit(buf, start, nl);
      start = nl + 1;
    }
    if (start >= buf.length) return;
    if (heldBytes + buf.length - start > MAX_LINE) {
      const line = joinHeld(buf.subarray(start));
      emit(line, 0, line.length);
      skipping = true;
      return;
    }
    // Copied: a view would keep the whole chunk alive while the line waits for its end.
    held.push(Buffer.from(buf.subarray(start)));
    heldBytes += buf.length - start;
  });
  stream.on('end', () => {
    if (heldBytes > 0) {
      const line = joinHeld(Buffer.alloc(0));
      emit(line, 0, line.length);
    }
  });
  // A child killed mid-write can leave the pipe in error; that is not ours to report.
  stream.on('error', () => undefined);
}
