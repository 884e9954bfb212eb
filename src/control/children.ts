import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { errorMessage } from '../core/errors.js';
import { idKey, isAlive, procId, unionIds } from '../process/proc-start.js';
import type { SupervisorApi } from '../supervisor/api.js';
import { captureDescendants, stopTree } from '../process/stop-tree.js';
import { commandDigest, findTokenHolders, holdsToken, ownedByUs } from '../process/sweep.js';
import { readProcRows } from '../process/table.js';
import { tokenOf } from '../process/token.js';
import type { ProcId } from '../process/types.js';
import { ensurePrivateDir, writeFileAtomic } from '../state/files.js';
import { controlPaths } from '../state/paths.js';

/** A process of a recorded tree; `cmd` is a digest of its command line, when it could be read. */
export type RecordedProc = ProcId & { cmd?: string };

export interface RecordedWorker {
  generation: number;
  root: RecordedProc;
  /** Every process seen in the tree, including ones that have since left it (a daemon re-parented to init). */
  tree: RecordedProc[];
  /** The token in the environment of every process of the tree (see process/token.ts). */
  token?: string;
}

export interface ChildrenRecord {
  v: 1;
  supervisor: ProcId;
  /** The user and the boot the record was written in: a process of another boot or user is nobody's leftover. */
  uid?: number;
  boot?: string;
  workers: Record<string, RecordedWorker>;
}

/** The kernel's id for this boot; pids and start times of another boot name other processes. */
function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * How long after a start its tree is first looked at (sooner when the refresh is more frequent).
 * Reading a booting tree's /proc entries competes with the boot, and a launch of many workers
 * boots them all at once; what a tree forks meanwhile is found by its token if the supervisor dies
 * before the look.
 */
const FIRST_CAPTURE_MS = 2000;

export interface ChildrenRecorderOptions {
  /** How often running trees are captured again, to learn processes forked after the start; 0 never. */
  refreshMs?: number;
  /** How long after a start its tree is first captured (FIRST_CAPTURE_MS). */
  firstLookMs?: number;
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
  const uid = process.getuid?.();
  const boot = bootId();
  const workers = new Map<string, RecordedWorker>();
  const onError = opts.onError ?? ((err: unknown) => process.stderr.write(`[devsup] child record not written: ${errorMessage(err)}\n`));
  const refreshMs = opts.refreshMs ?? 2000;
  const firstLookMs = opts.firstLookMs ?? FIRST_CAPTURE_MS;
  /** First looks at trees not yet due: none may write the record once it is closed. */
  const firsts = new Set<NodeJS.Timeout>();
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
        const text = `${JSON.stringify({ v: 1, supervisor: self, uid, boot, workers: entries } satisfies ChildrenRecord)}\n`;
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
    entry.tree = withCommands(unionIds(entry.tree.filter(isAlive), tree), entry.tree);
    save();
  };

  // A child that exited may have left a daemon holding its token: the entry stays while one lives.
  const exited = async (worker: string, entry: RecordedWorker): Promise<void> => {
    const holders = entry.token ? await findTokenHolders(entry.token, undefined, { notBefore: entry.root.start }) : [];
    if (workers.get(worker) !== entry) return;
    if (holders.length === 0) workers.delete(worker);
    else entry.tree = withCommands(holders, entry.tree);
    save();
  };

  const unsubscribe = api.subscribe((e) => {
    if (e.type === 'worker-started') {
      // The child is not reaped before the event loop runs again, so its start time is still readable.
      const id = procId(e.pid);
      if (!id) return;
      const root = withCommands([id], [])[0]!;
      const token = tokenOf(id);
      const entry: RecordedWorker = { generation: e.generation, root, tree: [root], ...(token ? { token } : {}) };
      workers.set(e.worker, entry);
      save();
      // The root is on record at once; what it forks is looked for once it has booted, since a
      // look at the tree right after the spawn finds the root alone and competes with its boot.
      const first = setTimeout(
        () => {
          firsts.delete(first);
          capture(e.worker, entry).catch(onError);
        },
        Math.min(firstLookMs, refreshMs > 0 ? refreshMs : firstLookMs),
      );
      first.unref();
      firsts.add(first);
    } else if (e.type === 'stopped') {
      // A stop sweeps the token's holders too: nothing of the tree is left.
      if (workers.get(e.worker)?.generation !== e.generation) return;
      workers.delete(e.worker);
      save();
    } else if (e.type === 'exited') {
      const entry = workers.get(e.worker);
      if (entry?.generation === e.generation) exited(e.worker, entry).catch(onError);
    }
  });

  const timer =
    refreshMs > 0
      ? setInterval(() => {
          for (const [w, entry] of workers) capture(w, entry).catch(onError);
        }, refreshMs).unref()
      : undefined;

  const stop = (): void => {
    unsubscribe();
    clearInterval(timer);
    for (const t of firsts) clearTimeout(t);
    firsts.clear();
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
 * predecessor's workers left running. A recorded process is touched only when it is still the
 * same process (pid AND start time, in the same boot), belongs to this user, and proves it was
 * the tree's: it holds the tree's token, or (having scrubbed its environment) still runs the
 * recorded command line. Every process of this user holding a recorded token is stopped too,
 * which finds daemons that left the tree after the last record. Only processes that were
 * actually signalled are reported.
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
  const uid = process.getuid?.();
  const sameBoot = rec.boot === undefined || rec.boot === bootId();
  const sameUser = rec.uid === undefined || rec.uid === uid;
  const stopped: ProcId[] = [];
  if (sameBoot && sameUser) {
    const table = await readProcRows();
    await Promise.all(
      Object.values(rec.workers).map(async (w) => {
        if (!w?.root || !validId(w.root)) return;
        const token = typeof w.token === 'string' && /^[0-9a-f]{32}$/.test(w.token) ? w.token : undefined;
        const recorded = [w.root, ...(Array.isArray(w.tree) ? w.tree.filter(validId) : [])].filter((p) => isAlive(p) && provenOurs(p, token));
        const holders = token ? await findTokenHolders(token, table, { notBefore: w.root.start }) : [];
        const targets = unionIds(recorded, holders);
        if (targets.length === 0) return;
        // The dead root's group id is not proof of anything: only proven processes are signalled.
        const res = await stopTree(w.root, {
          captured: targets,
          signal: opts.signal ?? 'SIGTERM',
          graceMs: opts.graceMs ?? 3000,
          group: false,
          ...(token ? { token } : {}),
        });
        stopped.push(...res.signalled);
      }),
    );
  }
  await rm(file, { force: true });
  return { stopped };
}

function validId(p: unknown): p is RecordedProc {
  const o = p as RecordedProc | undefined;
  return typeof o === 'object' && o !== null && Number.isSafeInteger(o.pid) && o.pid > 1 && typeof o.start === 'string';
}

/** Ours: this user's, and holding the token, or running the very command line recorded for it. */
function provenOurs(p: RecordedProc, token: string | undefined): boolean {
  // Without /proc neither the owner, the environment nor the command line is read cheaply: there,
  // pid and start time are all that is checked.
  if (process.platform !== 'linux') return true;
  if (!ownedByUs(p.pid)) return false;
  if (token && holdsToken(p.pid, token)) return true;
  return typeof p.cmd === 'string' && p.cmd !== '' && commandDigest(p.pid) === p.cmd;
}

/** The ids with their command lines' digests, taken from `known` where it has them already. */
function withCommands(ids: ProcId[], known: RecordedProc[]): RecordedProc[] {
  const cmds = new Map(known.filter((k) => k.cmd).map((k) => [idKey(k), k.cmd]));
  return ids.map((id) => {
    const cmd = cmds.get(idKey(id)) ?? commandDigest(id.pid);
    return cmd ? { pid: id.pid, start: id.start, cmd } : { pid: id.pid, start: id.start };
  });
}
