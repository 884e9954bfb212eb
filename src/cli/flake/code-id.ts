import { relative } from 'node:path';
import { createFilter } from '../../watch/filter.js';
import { changedPaths, diffSnapshots, Snapshotter, type Snapshot } from '../../watch/snapshot.js';
import { walkFiles } from '../../watch/walk.js';

export interface CodeWatch {
  /** The code id at the start, as `devsup run` computes it for the same directory; '' if unreadable. */
  codeId: Promise<string>;
  /** Files (relative to cwd) whose content differs now from the start. */
  changedSince(): Promise<string[]>;
}

/**
 * Identifies the code a flake session runs, so its history entries can be told apart from runs
 * on other code. Looking again at the end is cheap (unchanged files are not re-hashed) and tells
 * whether the runs may have seen different code.
 */
export function watchCode(cwd: string, ignore: string[]): CodeWatch {
  const filter = createFilter({ roots: [cwd], ignore, gitignore: true });
  const snapshotter = new Snapshotter(() => walkFiles([cwd], filter, () => undefined), cwd);
  // An unreadable tree only costs the id, never the session.
  const first: Promise<Snapshot | null> = snapshotter.take().catch(() => null);
  return {
    codeId: first.then((s) => s?.codeId ?? ''),
    async changedSince() {
      const before = await first;
      if (before === null) return [];
      const after = await snapshotter.take().catch(() => null);
      if (after === null || after.codeId === before.codeId) return [];
      return changedPaths(diffSnapshots(before, after)).map((p) => relative(cwd, p));
    },
  };
}
