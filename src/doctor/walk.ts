import { basename } from 'node:path';
import type { PathFilter } from '../watch/types.js';
import { walkTree } from '../watch/walk.js';

/** Return true to leave a directory (and everything under it) out. */
export type SkipDir = (name: string, path: string) => boolean;

const SKIPPED = new Set(['.git', 'node_modules', '.venv', 'venv']);

export const defaultSkipDir: SkipDir = (name) => SKIPPED.has(name);

export interface TreeListing {
  /** Every directory read, the roots included. */
  dirs: string[];
  files: string[];
}

/**
 * The watcher's own walk, so the doctor sees the tree the way `run` will: symlinked directories
 * not followed, entries of unknown type (common on network filesystems) classified, nested
 * roots walked once. Unreadable directories are simply absent here.
 */
export async function listTree(roots: readonly string[], skipDir: SkipDir = defaultSkipDir): Promise<TreeListing> {
  const listing: TreeListing = { dirs: [], files: [] };
  const filter: PathFilter = { skipDir: (abs) => skipDir(basename(abs), abs), includeFile: () => true };
  await walkTree([...roots], filter, () => undefined, {
    onDir: (dir) => listing.dirs.push(dir),
    onFile: (file) => listing.files.push(file),
  });
  return listing;
}
