import { isAlive, isDeadState } from '../stale/proc-start.js';
import { readProcTable, type ProcInfo } from '../stale/proc-table.js';
import type { ProcId, StopResult } from './types.js';

export interface StopOptions {
  signal?: NodeJS.Signals;
  graceMs?: number;
  giveUpMs?: number;
  /** A tree captured earlier (e.g. while the root was still alive); otherwise captured now. */
  captured?: ProcId[];
}

const POLL_MS = 15;
/** Re-reading the whole table is the expensive part of a poll, so it happens less often. */
const RESCAN_MS = 100;

/**
 * Every live process of the tree: the root, members of the group it leads, and every descendant of
 * either by ppid (which catches descendants that left the group with setsid).
 * Given a ProcId, a root whose pid now belongs to another process captures nothing: the kernel
 * keeps a group id allocated while any member lives, so the old group is gone too.
 */
export async function captureTree(root: number | ProcId, table?: ProcInfo[]): Promise<ProcId[]> {
  const rows = table ?? (await readProcTable());
  return treeRows(root, rows).map(toId);
}

export async function stopTree(root: number | ProcId, opts: StopOptions = {}): Promise<StopResult> {
  const started = performance.now();
  const signal = opts.signal ?? 'SIGTERM';
  const graceMs = opts.graceMs ?? 3000;
  const giveUpMs = opts.giveUpMs ?? 2000;

  const table = await readProcTable();
  const captured = opts.captured ?? treeRows(root, table).map(toId);
  const rootPid = typeof root === 'number' ? root : root.pid;
  const rootStart = typeof root === 'number' ? table.find((r) => r.pid === rootPid)?.start : root.start;
  const tree = new Tree(rootPid, rootStart);
  tree.track(captured);

  let forced = false;
  let gone = false;
  if (signal !== 'SIGKILL') {
    tree.sweep(signal, table);
    gone = await tree.waitGone(signal, started + graceMs);
    forced = !gone;
  }
  if (!gone) {
    tree.sweep('SIGKILL', await readProcTable());
    gone = await tree.waitGone('SIGKILL', performance.now() + giveUpMs);
  }
  return {
    signal,
    forced,
    gaveUp: !gone,
    durationMs: performance.now() - started,
    treeSize: tree.size,
    survivors: tree.alive(),
  };
}

/** Sends `sig` to `id` only if that very process (same start) is still alive. */
export function signalIfAlive(id: ProcId, sig: NodeJS.Signals): boolean {
  return isAlive(id) && kill(id.pid, sig);
}

function treeRows(root: number | ProcId, rows: ProcInfo[]): ProcInfo[] {
  const rootPid = typeof root === 'number' ? root : root.pid;
  const own = rows.find((r) => r.pid === process.pid)?.pgid;
  if (rootPid <= 1 || rootPid === process.pid || rootPid === own) return [];
  const rootRow = rows.find((r) => r.pid === rootPid);
  if (typeof root !== 'number' && rootRow && rootRow.start !== root.start) return [];
  return closure(rows, (r) => r.pid === rootPid || r.pgid === rootPid);
}

/** Live rows matching `seed`, plus all their live descendants. */
function closure(rows: ProcInfo[], seed: (r: ProcInfo) => boolean): ProcInfo[] {
  const live = rows.filter((r) => !isDeadState(r.state) && r.pid > 1 && r.pid !== process.pid);
  const children = new Map<number, ProcInfo[]>();
  for (const r of live) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
  const out = new Map<number, ProcInfo>();
  const todo = live.filter(seed);
  for (let r = todo.pop(); r; r = todo.pop()) {
    if (out.has(r.pid)) continue;
    out.set(r.pid, r);
    todo.push(...(children.get(r.pid) ?? []));
  }
  return [...out.values()];
}

const key = (id: ProcId) => `${id.pid}:${id.start}`;
const toId = (r: ProcInfo): ProcId => ({ pid: r.pid, start: r.start });

/** The processes being stopped, and which signal each has had, so nobody gets the same one twice. */
class Tree {
  private readonly members = new Map<string, ProcId>();
  private readonly sent = new Map<string, NodeJS.Signals>();
  private readonly groupSent = new Set<NodeJS.Signals>();

  constructor(
    private readonly rootPid: number,
    /** Undefined when the root was already gone when stopping began. */
    private readonly rootStart: string | undefined,
  ) {}

  get size(): number {
    return this.members.size;
  }

  track(ids: ProcId[]): void {
    for (const id of ids) this.members.set(key(id), id);
  }

  alive(): ProcId[] {
    return [...this.members.values()].filter(isAlive);
  }

  /**
   * The group id is still ours unless its pid now belongs to another process: a group id stays
   * allocated while any member lives, so a reused root pid means our group has ended.
   */
  private groupIsOurs(table: ProcInfo[]): boolean {
    const rootRow = table.find((r) => r.pid === this.rootPid);
    return !rootRow || rootRow.start === this.rootStart;
  }

  /** Adds processes forked since the last look, then signals everyone not yet given `sig`. */
  sweep(sig: NodeJS.Signals, table: ProcInfo[]): void {
    const own = table.find((r) => r.pid === process.pid)?.pgid;
    const pgid = this.rootPid;
    const group = this.groupIsOurs(table) && pgid > 1 && pgid !== own && pgid !== process.pid;
    this.track(closure(table, (r) => this.members.has(key(toId(r))) || (group && r.pgid === pgid)).map(toId));

    if (group && !this.groupSent.has(sig) && table.some((r) => r.pgid === pgid && !isDeadState(r.state))) {
      this.groupSent.add(sig);
      killGroup(pgid, sig);
      for (const r of table) if (r.pgid === pgid) this.sent.set(key(toId(r)), sig);
      // A stopped process would not act on SIGTERM until continued.
      if (sig !== 'SIGKILL') killGroup(pgid, 'SIGCONT');
    }
    for (const id of this.members.values()) {
      if (this.sent.get(key(id)) === sig) continue;
      this.sent.set(key(id), sig);
      if (signalIfAlive(id, sig) && sig !== 'SIGKILL') signalIfAlive(id, 'SIGCONT');
    }
  }

  async waitGone(sig: NodeJS.Signals, deadline: number): Promise<boolean> {
    let lastScan = performance.now();
    for (;;) {
      // A dying process may still fork: look again before believing the tree is gone, and now and then meanwhile.
      const quiet = this.alive().length === 0;
      if (quiet || performance.now() - lastScan >= RESCAN_MS) {
        lastScan = performance.now();
        this.sweep(sig, await readProcTable());
        if (quiet && this.alive().length === 0) return true;
      }
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}

function kill(pid: number, sig: NodeJS.Signals): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 1 || pid === process.pid) return false;
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

function killGroup(pgid: number, sig: NodeJS.Signals): void {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return;
  try {
    process.kill(-pgid, sig);
  } catch {
    // ESRCH: the group emptied meanwhile.
  }
}
