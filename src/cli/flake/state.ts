import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The project's state directory: `.devsup` in `cwd` or the nearest ancestor that has one, so
 * `devsup history` from a subdirectory reads the same history the project's runs wrote.
 */
export function findStateDir(cwd: string): string | null {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, '.devsup');
    try {
      if (statSync(candidate).isDirectory()) return candidate;
    } catch {
      /* not here */
    }
    if (dirname(dir) === dir) return null;
  }
}

/** Where a command that writes state puts it: the existing project state, or a new one in `cwd`. */
export function stateDirFor(cwd: string): string {
  return findStateDir(cwd) ?? join(resolve(cwd), '.devsup');
}
