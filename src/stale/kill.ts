import { captureTree, stopTree } from '../process/stop-tree.js';
import type { ProcId } from '../process/types.js';
import { ancestorsOf } from './membership.js';
import { readProcTable, type ProcInfo } from '../process/table.js';
import { classify } from './roles.js';
import type { ProjectProcess } from './scan.js';

export interface KillOutcome {
  pid: number;
  command: string;
  /** stopped: the whole tree is gone; covered: inside another target's tree, stopped with it. */
  result: 'stopped' | 'survived' | 'gone' | 'covered' | 'skipped';
  /** Why it was skipped, or whose tree covered it. */
  reason?: string;
  treeSize: number;
  /** SIGKILL was needed after the grace period. */
  forced: boolean;
  survivors: number[];
}

export interface KillOptions {
  graceMs?: number;
  selfPid?: number;
  uid?: number;
  /** Pids whose trees are never stopped, with why (devsup supervisors found by the scan). */
  protect?: ReadonlyMap<number, string>;
}

/**
 * Stops each stale process with its whole tree, checking everything against a fresh table first:
 * a pid that now names another process is left alone (the ProcId check), and so is a tree that
 * holds this devsup, one of its ancestors, a devsup supervisor or another user's process, since
 * stopping a tree signals its whole process group too. A process devsup supervises is left to its
 * supervisor: stopping it behind devsup's back reads as a crash there.
 */
export async function stopStale(targets: readonly ProjectProcess[], opts: KillOptions = {}): Promise<KillOutcome[]> {
  const selfPid = opts.selfPid ?? process.pid;
  const uid = opts.uid ?? process.getuid?.();
  const table = await readProcTable();
  const ancestors = ancestorsOf(selfPid, table);
  const byPid = new Map(table.map((r) => [r.pid, r]));
  const protect = new Map(opts.protect);
  // Supervisors started since the scan, or not found by it, are recognised in the fresh table too.
  const ctx = { devsupPids: new Set(protect.keys()) };
  for (const r of table) {
    const kind = classify(r, ctx);
    if (kind.role === 'supervisor' && kind.label.startsWith('devsup ') && !protect.has(r.pid)) protect.set(r.pid, `pid ${r.pid}, a devsup supervisor`);
  }

  const outcomes: KillOutcome[] = [];
  const runs: Promise<void>[] = [];
  const claimed = new Map<number, number>();
  // Oldest first: a parent precedes its children, so a child already inside a stopped tree is not a tree of its own.
  for (const t of [...targets].sort((a, b) => a.startMs - b.startMs || a.pid - b.pid)) {
    const base = { pid: t.pid, command: t.command, treeSize: 0, forced: false, survivors: [] as number[] };
    const id: ProcId = { pid: t.pid, start: t.start };
    const owner = claimed.get(t.pid);
    if (owner !== undefined) {
      outcomes.push({ ...base, result: 'covered', reason: `in the tree of pid ${owner}` });
      continue;
    }
    if (t.supervisedBy) {
      const restart = `devsup restart${t.supervisedBy.worker === undefined ? '' : ` ${t.supervisedBy.worker}`}`;
      outcomes.push({ ...base, result: 'skipped', reason: `devsup (pid ${t.supervisedBy.supervisorPid}) supervises it; ${restart} restarts it` });
      continue;
    }
    if (byPid.get(t.pid)?.start !== t.start) {
      outcomes.push({ ...base, result: 'gone', reason: 'exited since the scan' });
      continue;
    }
    const tree = await captureTree(id, table);
    const why = tree.length === 0 ? 'it leads the process group devsup runs in' : refusal(tree, byPid, ancestors, selfPid, uid, protect);
    if (why !== undefined) {
      outcomes.push({ ...base, result: 'skipped', reason: why });
      continue;
    }
    for (const m of tree) if (!claimed.has(m.pid)) claimed.set(m.pid, t.pid);
    const outcome: KillOutcome = { ...base, result: 'stopped', treeSize: tree.length };
    outcomes.push(outcome);
    runs.push(
      stopTree(id, { graceMs: opts.graceMs ?? 3000, captured: tree }).then((r) => {
        outcome.treeSize = r.treeSize;
        outcome.forced = r.forced;
        outcome.survivors = r.survivors.map((s) => s.pid);
        if (r.gaveUp || r.survivors.length > 0) outcome.result = 'survived';
      }),
    );
  }
  await Promise.all(runs);
  return outcomes.sort((a, b) => a.pid - b.pid);
}

function refusal(
  tree: readonly ProcId[],
  byPid: ReadonlyMap<number, ProcInfo>,
  ancestors: ReadonlySet<number>,
  selfPid: number,
  uid: number | undefined,
  protect: ReadonlyMap<number, string>,
): string | undefined {
  const mine = tree.find((m) => m.pid === selfPid || ancestors.has(m.pid));
  if (mine) return `its process tree holds pid ${mine.pid}, devsup itself or the shell it runs in`;
  const kept = tree.find((m) => protect.has(m.pid));
  if (kept) return `its process tree holds ${protect.get(kept.pid)!}`;
  const foreign = uid === undefined ? undefined : tree.find((m) => byPid.get(m.pid)?.uid !== uid);
  if (foreign) return `its process tree holds pid ${foreign.pid}, which belongs to another user`;
  return undefined;
}
