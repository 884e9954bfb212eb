import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_DIR_NAME } from '../state/paths.js';
import type { Finding } from './types.js';

/** `.devsup/` and the two levels below it: where every file devsup keeps (index, history, logs, ports, bytecode directories) has its name. */
const DEPTH = 2;

/**
 * Symlinks in a root's `.devsup/`. devsup never reads or writes through one (a planted link could
 * point its writes at any file the user can write), so each one found here is state devsup refuses
 * to use: commands stop with exit 73 or fall back to something slower, and the reason is easy to
 * miss. Nothing is followed or changed here.
 */
export async function checkStateLinks(roots: readonly string[]): Promise<Finding[]> {
  const found = await Promise.all(roots.map((root) => linksUnder(join(root, STATE_DIR_NAME), 0)));
  return found.flat().map((path) => ({
    check: 'state-link' as const,
    severity: 'hazard' as const,
    file: path.file,
    evidence: `a symlink${path.target === undefined ? '' : ` to ${path.target}`} inside devsup's state; devsup does not read or write through it, so what it keeps there is not used`,
    fix: `remove the link (rm ${JSON.stringify(path.file)}); devsup makes its own files again`,
  }));
}

interface Link {
  file: string;
  target?: string;
}

async function linksUnder(path: string, depth: number): Promise<Link[]> {
  const st = await lstat(path).catch(() => undefined);
  if (st === undefined) return [];
  if (st.isSymbolicLink()) return [{ file: path, target: await readlink(path).catch(() => undefined) }];
  if (!st.isDirectory() || depth >= DEPTH) return [];
  const names = await readdir(path).catch(() => [] as string[]);
  const nested = await Promise.all(names.map((n) => linksUnder(join(path, n), depth + 1)));
  return nested.flat();
}
