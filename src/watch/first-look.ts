import { readdirSync, type Dirent } from 'node:fs';
import { dirname, join } from 'node:path';
import { changedSince } from './file-state.js';
import { DEFAULT_IGNORED_DIRS } from './ignored-dirs.js';
import type { PathFilter } from './types.js';
import { dirCtime, walkTree } from './walk.js';

/*
 * What the first look of a tree checks when its first generation started before any file was read
 * (no saved index): whether the tree is big enough for that, and what may have changed after the
 * start that the files' own ctimes do not show.
 */

/**
 * Whether the roots hold at least `min` files, counted without the filter (not loaded yet when
 * this is asked), skipping only the directories always ignored: a cheap, bounded look that may
 * count ignored files, which costs an early start at most.
 */
export function atLeastFiles(roots: readonly string[], min: number): boolean {
  const skip = new Set(DEFAULT_IGNORED_DIRS);
  const stack = [...roots];
  let files = 0;
  let dirs = 0;
  for (let dir = stack.pop(); dir !== undefined; dir = stack.pop()) {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      if (roots.includes(dir)) files++; // a file root counts as one
      continue;
    }
    // Past this many directories the tree is big whatever they hold.
    if (++dirs > min / 4) return true;
    for (const e of entries) {
      if (e.isDirectory()) {
        if (!skip.has(e.name)) stack.push(join(dir, e.name));
      } else if (++files >= min) return true;
    }
  }
  return files >= min;
}

/** The watched directories whose entries changed at or after `since` (a directory made then included). */
export async function dirsChangedSince(
  roots: string[],
  filter: PathFilter | undefined,
  since: number,
  before: ReadonlyMap<string, Set<string> | undefined> | undefined,
): Promise<string[]> {
  if (!filter) return [];
  const found: string[] = [];
  await walkTree(roots, filter, () => undefined, {
    onDir: (d) => {
      const c = dirCtime(d);
      if (c !== undefined && !changedSince(c, since)) return;
      // A root whose entries were all there before the start only gained some: each one gained
      // is looked at on its own (a file's or directory's own ctime is that of its making).
      const had = before?.get(d);
      const now = had && entryNames(d);
      if (had && now && [...had].every((n) => now.has(n))) return;
      found.push(d);
    },
  });
  return found;
}

/** The names in a directory; undefined when it cannot be read. */
export function entryNames(dir: string): Set<string> | undefined {
  try {
    return new Set(readdirSync(dir));
  } catch {
    return undefined;
  }
}

/**
 * What a start made before any file was read may have seen otherwise: the files directly in a
 * directory whose entries changed (the directory itself when none is left), and every path the
 * watcher reported during the look.
 */
export function suspectPaths(dirs: readonly string[], files: readonly string[], heard: readonly string[]): string[] {
  const out = new Set(heard);
  if (dirs.length > 0) {
    const moved = new Set(dirs);
    const seen = new Set<string>();
    for (const f of files) {
      const d = dirname(f);
      if (moved.has(d)) {
        out.add(f);
        seen.add(d);
      }
    }
    for (const d of dirs) if (!seen.has(d)) out.add(d);
  }
  return [...out];
}
