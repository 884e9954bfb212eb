import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait.js';

export const fixture = (name: string): string => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

/** Everything a stream has produced so far, plus whether it has ended. */
export interface Collected {
  text(): string;
  lines(): string[];
  ended(): boolean;
  /** Waits for a line matching `re` and returns its match. */
  line(re: RegExp, what?: string): Promise<RegExpExecArray>;
}

export function collect(stream: Readable | undefined): Collected {
  if (!stream) throw new Error('stream not piped');
  let text = '';
  let ended = false;
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => (text += d));
  stream.on('end', () => (ended = true));
  const lines = () => text.split('\n').filter((l) => l !== '');
  return {
    text: () => text,
    lines,
    ended: () => ended,
    line: (re, what = String(re)) =>
      waitFor(() => lines().map((l) => re.exec(l)).find((m) => m !== null), `${what} in output:\n${text}`),
  };
}
