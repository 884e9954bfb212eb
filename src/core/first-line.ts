import { closeSync, openSync, readSync } from 'node:fs';

/**
 * The first line of a file, read with one small read instead of the whole file: the header of a
 * saved index or memo, looked at before anything else at start. Undefined when the file cannot be
 * read or has no line end within `maxBytes`.
 */
export function readFirstLine(file: string, maxBytes: number): string | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const head = Buffer.allocUnsafe(maxBytes);
    const n = readSync(fd, head, 0, maxBytes, 0);
    const end = head.subarray(0, n).indexOf(10);
    return end < 0 ? undefined : head.toString('utf8', 0, end);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
