import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';

/** The project directory a command inspects: given or the current one, and an existing directory. */
export function projectDir(dir: string | undefined, flag = 'directory'): string {
  const root = resolve(dir ?? '.');
  let isDir: boolean;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    throw new UsageError(`${flag} does not exist: ${dir ?? root}`);
  }
  if (!isDir) throw new UsageError(`${flag} is not a directory: ${dir ?? root}`);
  return root;
}
