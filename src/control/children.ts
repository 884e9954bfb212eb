import { readFile, rm } from 'node:fs/promises';
import { errorMessage } from '../core/errors.js';
import { isAlive, procId, unionIds } from '../process/proc-start.js';
import type { SupervisorApi } from '../supervisor/api.js';
import { captureDescendants, captureTree, stopTree } from '../process/stop-tree.js';
import type { ProcId } from '../process/types.js';
import { ensurePrivateDir, writeFileAtomic } from '../state/files.js';
import { controlPaths } from '../state/paths.js';

export interface RecordedWorker {
  generation: number;
  root: ProcId;
  /** Every process seen in the tree, including ones that have since left it (a daemon re-parented to init). */
  tree: ProcId[];
}

export interface ChildrenRecord {
  v: 1;
  supervisor: ProcId;
  workers: Record<string, RecordedWorker>;
}

export interface ChildrenRecorderOptions {
  /** How often running trees are captured again, to learn processes forked after the start; 0 never. */
  refreshMs?: number;
  onError?: (err: unknown) => void;
}

export type ChildrenRecorder = (() => void) & {
  /** Resolves once the file reflects every event so far. */
  idle(): Promise<void>;
  /** Unsubscribes and waits for the last write. */
  close(): Promise<void>;
};

/**
 * Keeps `<root>/.devsup/<name>.children.json` naming every running worker's process tree, so that a
 * supervisor killed with SIGKILL leaves enough behind for the next one to stop its orphans.
 */
export function recordChildren(api: SupervisorApi, root: string, name: string, opts: ChildrenRecorderOptions = {}): ChildrenRecorder {
  const paths = controlPaths(root, name);
  const self = procId(process.pid) ?? { pid: process.pid, start: '' };
  const workers = new Map<string, RecordedWorker>();
  const onError = opts.onError ?? ((err: unknown) => process.stderr.write(`[devsup] child record not written: ${errorMessage(err)}\n`));
  let chain: Promise<void> = Promise.resolve();
  let queued = false;
  let written = '';

  const save = (): void => {
    if (queued) return;
    queued = true;
    chain = chain
      .then(async () => {
        queued = false;
        const entries = Object.fromEntries(workers);
        const text = `${JSON.stringify({ v: 1, supervisor: self, workers: entries } satisfies ChildrenRecord)}\n`;
        if (text === written) return;
        if (workers.size === 0) await rm(paths.children, { force: true });
        else {
          await ensurePrivateDir(paths.dir);
          await writeFileAtomic(paths.children, text);
        }
        written = text;
      })
      .catch((err: unknown) => {
        try {
          onError(err);
        } catch {
          /* recording must never take the supervisor down */
        }
      });
  };

  // Descendants only: a refresh every 2 s must not read every process on the machine, and members
  // of the group that left the tree are found by its pgid when the leftovers are recovered.
  const capture = async (worker: string, entry: RecordedWorker): Promise<void> => {
    const tree = await captureDescendants(entry.root);
    if (workers.get(worker) !== entry) return;
    entry.tree = unionIds(entry.tree.filter(isAlive), tree);
    save();
  };

  const unsubscribe = api.subscribe((e) => {
    if (e.type === 'worker-started') {
      // The child is not reaped before the event loop runs again, so its start time is still readable.
      const id = procId(e.pid);
      if (!id) return;
      const entry: RecordedWorker = { generation: e.generation, root: id, tree: [id] };
      workers.set(e.worker, entry);
      save();
      capture(e.worker, entry).catch(onError);
    } else if (e.type === 'stopped' || e.type === 'exited') {
      if (workers.get(e.worker)?.generation !== e.generation) return;
      workers.delete(e.worker);
      save();
    }
  });

  const refreshMs = opts.refreshMs ?? 2000;
  const timer =
    refreshMs > 0
      ? setInterval(() => {
          for (const [w, entry] of workers) capture(w, entry).catch(onError);
        }, refreshMs).unref()
      : undefined;

  const stop = (): void => {
    unsubscribe();
    clearInterval(timer);
  };
  return Object.assign(stop, {
    idle: () => chain,
    close: async () => {
      stop();
      await chain;
    },
  });
}

export async function readChildren(root: string, name: string): Promise<ChildrenRecord | undefined> {
  try {
    const o = JSON.parse(await readFile(controlPaths(root, name).children, 'utf8')) as ChildrenRecord;
    return o && typeof o.workers === 'object' && o.workers !== null ? o : undefined;
  } catch {
    return undefined;
  }
}

export interface RecoverOptions {
  signal?: NodeJS.Signals;
  graceMs?: number;
}

/**
 * Run by a supervisor at startup, with the project's lock held: stops whatever a crashed
 * predecessor's workers left running. Only a process with the recorded pid AND start time is
 * touched, so a pid the system has since given to someone else is left alone.
 */
export async function recoverLeftovers(root: string, name: string, opts: RecoverOptions = {}): Promise<{ stopped: ProcId[] }> {
  const rec = await readChildren(root, name);
  const file = controlPaths(root, name).children;
  if (!rec) {
    await rm(file, { force: true });
    return { stopped: [] };
  }
  // A record whose supervisor lives is not a leftover (this very process, or one that lost its lock).
  if (rec.supervisor && isAlive(rec.supervisor)) return { stopped: [] };
  const stopped: ProcId[] = [];
  await Promise.all(
    Object.values(rec.workers).map(async (w) => {
      if (!w?.root) return;
      const recorded = [w.root, ...(Array.isArray(w.tree) ? w.tree : [])].filter(isAlive);
      // A dead root still names its process group, whose members may have forked since the record.
      const targets = unionIds(recorded, await captureTree(w.root));
      if (targets.length === 0) return;
      await stopTree(w.root, { captured: targets, signal: opts.signal ?? 'SIGTERM', graceMs: opts.graceMs ?? 3000 });
      stopped.push(...targets);
    }),
  );
  await rm(file, { force: true });
  return { stopped };
}
