import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';

/** A line longer than this is cut, so a child that never prints a newline cannot grow our memory. */
export const MAX_LINE = 16 * 1024;

/** Calls `onLine` for every line of `stream`, CRLF and an unterminated last line included. */
export function readLines(stream: Readable, onLine: (line: string) => void): void {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const emit = (line: string): void => onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  stream.on('data', (chunk: Buffer) => {
    let text = partial + decoder.write(chunk);
    let i: number;
    while ((i = text.indexOf('\n')) >= 0) {
      emit(text.slice(0, i));
      text = text.slice(i + 1);
    }
    if (text.length > MAX_LINE) {
      emit(text.slice(0, MAX_LINE));
      text = '';
    }
    partial = text;
  });
  stream.on('end', () => {
    const rest = partial + decoder.end();
    if (rest !== '') emit(rest);
    partial = '';
  });
  // A child killed mid-write can leave the pipe in error; that is not ours to report.
  stream.on('error', () => undefined);
}
