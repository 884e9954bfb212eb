import { fstatSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';

/**
 * The regular files this process's stdout and stderr go to (`devsup up > out.txt`), by their real
 * paths. Inside a watched tree such a file changes with every line devsup prints, a start prints
 * lines, and each start would restart the worker again: a loop the loop guard cannot stop when
 * the name looks like a document (`.txt`). Linux names an open file through /proc; elsewhere none
 * is found.
 */
export function ownOutputFiles(): string[] {
  if (process.platform !== 'linux') return [];
  const out = new Set<string>();
  for (const fd of [1, 2]) {
    try {
      if (!fstatSync(fd).isFile()) continue;
      const p = readlinkSync(`/proc/self/fd/${fd}`);
      if (isAbsolute(p) && !p.endsWith(' (deleted)')) out.add(p);
    } catch {
      // A closed descriptor, or no /proc: nothing to leave out.
    }
  }
  return [...out];
}

/** Those of `files` (real paths) that lie below one of `roots`, named the way the tree names them. */
export function filesInRoots(files: readonly string[], roots: readonly string[]): string[] {
  if (files.length === 0) return [];
  const found: string[] = [];
  for (const root of roots) {
    let real: string;
    try {
      real = realpathSync(root);
    } catch {
      continue;
    }
    for (const f of files) {
      const rel = relative(real, f);
      if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) found.push(join(root, rel));
    }
  }
  return found;
}
