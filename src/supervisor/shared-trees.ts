import type { ChangeSet } from '../core/events.js';
import type { Snapshot } from '../watch/snapshot.js';
import { WatchedTree, type TreeOptions } from '../watch/tree.js';

/** Everything that makes two trees the same tree: what is watched, how, and where it is saved. */
export type TreeSettings = Omit<TreeOptions, 'onWarning' | 'onChange'>;

export interface TreeUser {
  onWarning(message: string): void;
  onChange(snapshot: Snapshot, changes: ChangeSet): void;
}

/** One tree and what its first start and its early snapshot answered, for every worker that uses it. */
export interface SharedTree {
  readonly tree: WatchedTree;
  /** Roots on a filesystem whose change events cannot be trusted (then the tree polls). */
  unreliable?: Promise<string[]>;
  /** The tree's one start; undefined until a worker asks to watch. */
  started?: Promise<Snapshot | undefined>;
  /** `tree.early()` answers only the first time it is asked; every user gets that answer. */
  early?: { snapshot: Snapshot | undefined };
}

interface Entry {
  shared: SharedTree;
  users: Map<string, TreeUser>;
}

/**
 * Workers with the same watch settings share one WatchedTree: the default config (every worker
 * watching the project from its directory) would otherwise list and hash the same files once per
 * worker at every start, keep one copy of every file's state per worker, and save the same index
 * file from each. A settled change reaches every user, each judging it against its own child.
 */
export class SharedTrees {
  private readonly byKey = new Map<string, Entry>();

  join(worker: string, settings: TreeSettings, user: TreeUser): SharedTree {
    const key = keyOf(settings);
    let entry = this.byKey.get(key);
    if (!entry) {
      const users = new Map<string, TreeUser>();
      const tree = new WatchedTree({
        ...settings,
        onWarning: (message) => {
          for (const u of users.values()) u.onWarning(message);
        },
        onChange: (snapshot, changes) => {
          for (const u of users.values()) u.onChange(snapshot, changes);
        },
      });
      entry = { shared: { tree }, users };
      this.byKey.set(key, entry);
    }
    entry.users.set(worker, user);
    return entry.shared;
  }

  /**
   * The worker no longer uses the tree: it stops hearing of changes and takes back the `holds` it
   * put on it. The last user closes it.
   */
  async leave(worker: string, shared: SharedTree, holds: number): Promise<void> {
    const found = [...this.byKey].find(([, e]) => e.shared === shared);
    if (!found) return;
    const [key, entry] = found;
    entry.users.delete(worker);
    if (entry.users.size > 0) {
      for (let i = 0; i < holds; i++) shared.tree.release();
      return;
    }
    this.byKey.delete(key);
    await shared.tree.close();
  }

  /** How many trees there are (for tests and diagnostics). */
  get size(): number {
    return this.byKey.size;
  }
}

function keyOf(s: TreeSettings): string {
  return JSON.stringify([s.roots, s.ignore, s.ext ?? null, s.settleMs, s.poll ?? false, s.backend ?? null, s.indexFile ?? null, s.leaveOut ?? []]);
}
