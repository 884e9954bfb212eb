import { idKey, isAlive, isDeadState, readStat } from './proc-start.js';
import { readProcRows, readTreeRows, type ProcRow } from './table.js';
import type { ProcId, StopResult } from './types.js';

export interface StopOptions {
  signal?: NodeJS.Signals;
  graceMs?: number;
  giveUpMs?: number;
  /** A tree captured earlier (e.g. while the root was still alive); otherwise captured now. */
  captured?: ProcId[];
}

/** Polls start 1 ms apart (a polite child is gone within a few ms) and slow down by 1 ms each to POLL_MS. */
const FIRST_POLL_MS = 1;
const POLL_MS = 15;
/** Re-reading the whole table is the expensive part of a poll, so it happens less often. */
const RESCAN_MS = 100;
/** How long a group with every tracked process dead may take to empty before the table is read. */
const REAP_WAIT_MS = 5;

/**
 * Every live process of the tree: the root, members of the group it leads, and every descendant of
 * either by ppid (which catches descendants that left the group with setsid).
 * Given a ProcId, a root whose pid now belongs to another process captures nothing: the kernel
 * keeps a group id allocated while any member lives, so the old group is gone too.
 */
export async function captureTree(root: number | ProcId, table?: ProcRow[]): Promise<ProcId[]> {
  const rows = table ?? (await readProcRows());
  return treeRows(root, rows).map(toId);
}

/**
 * The tree under a live root, found through the kernel's child lists where it has them: the cost
 * follows the size of the tree rather than the number of processes on the machine, so it can be
 * repeated every few seconds. Members of the root's group that are not its descendants are missed;
 * the group signal of a stop reaches them, and captureTree finds them.
 */
export async function captureDescendants(root: ProcId): Promise<ProcId[]> {
  const rows = readTreeRows(root.pid);
  return rows ? treeRows(root, rows).map(toId) : captureTree(root);
}

export async function stopTree(root: number | ProcId, opts: StopOptions = {}): Promise<StopResult> {
  const started = performance.now();
  const signal = opts.signal ?? 'SIGTERM';
  const graceMs = opts.graceMs ?? 3000;
  const giveUpMs = opts.giveUpMs ?? 2000;

  const rootPid = typeof root === 'number' ? root : root.pid;
  // The tree as it hangs from its root is enough to begin with; whatever else is in the group gets
  // the group signal, and the whole table is read as soon as the group outlives what is tracked.
  const table = (opts.captured ? undefined : readTreeRows(rootPid)) ?? (await readProcRows());
  const captured = opts.captured ?? treeRows(root, table).map(toId);
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
    tree.sweep('SIGKILL', await readProcRows());
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

function treeRows(root: number | ProcId, rows: ProcRow[]): ProcRow[] {
  const rootPid = typeof root === 'number' ? root : root.pid;
  const own = rows.find((r) => r.pid === process.pid)?.pgid;
  if (rootPid <= 1 || rootPid === process.pid || rootPid === own) return [];
  const rootRow = rows.find((r) => r.pid === rootPid);
  if (typeof root !== 'number' && rootRow && rootRow.start !== root.start) return [];
  return closure(rows, (r) => r.pid === rootPid || r.pgid === rootPid);
}

/** Live rows matching `seed`, plus all their live descendants. */
function closure(rows: ProcRow[], seed: (r: ProcRow) => boolean): ProcRow[] {
  const live = rows.filter((r) => !isDeadState(r.state) && r.pid > 1 && r.pid !== process.pid);
  const children = new Map<number, ProcRow[]>();
  for (const r of live) children.set(r.ppid, [...(children.get(r.ppid) ?? []), r]);
  const out = new Map<number, ProcRow>();
  const todo = live.filter(seed);
  for (let r = todo.pop(); r; r = todo.pop()) {
    if (out.has(r.pid)) continue;
    out.set(r.pid, r);
    todo.push(...(children.get(r.pid) ?? []));
  }
  return [...out.values()];
}

const toId = (r: ProcRow): ProcId => ({ pid: r.pid, start: r.start });

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
    for (const id of ids) this.members.set(idKey(id), id);
  }

  alive(): ProcId[] {
    return [...this.members.values()].filter(isAlive);
  }

  /**
   * The group id is still ours unless its pid now belongs to another process: a group id stays
   * allocated while any member lives, so a reused root pid means our group has ended.
   */
  private groupIsOurs(table: ProcRow[]): boolean {
    const rootRow = table.find((r) => r.pid === this.rootPid);
    return !rootRow || rootRow.start === this.rootStart;
  }

  /**
   * Whether any process, a zombie included, still has our group id, asked of the kernel directly.
   * A reused root pid means the group ended (see groupIsOurs); so does our own group, which is
   * never the tree's.
   */
  private groupLives(): boolean {
    const pgid = this.rootPid;
    if (pgid <= 1 || pgid === process.pid || pgid === readStat(process.pid)?.pgid) return false;
    const rootNow = readStat(pgid);
    if (rootNow && rootNow.startTicks !== this.rootStart) return false;
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /** Adds processes forked since the last look, then signals everyone not yet given `sig`. */
  sweep(sig: NodeJS.Signals, table: ProcRow[]): void {
    const own = table.find((r) => r.pid === process.pid)?.pgid;
    const pgid = this.rootPid;
    const group = this.groupIsOurs(table) && pgid > 1 && pgid !== own && pgid !== process.pid;
    this.track(closure(table, (r) => this.members.has(idKey(toId(r))) || (group && r.pgid === pgid)).map(toId));

    if (group && !this.groupSent.has(sig) && table.some((r) => r.pgid === pgid && !isDeadState(r.state))) {
      this.groupSent.add(sig);
      killGroup(pgid, sig);
      for (const r of table) if (r.pgid === pgid) this.sent.set(idKey(toId(r)), sig);
      // A stopped process would not act on SIGTERM until continued.
      if (sig !== 'SIGKILL') killGroup(pgid, 'SIGCONT');
    }
    for (const id of this.members.values()) {
      if (this.sent.get(idKey(id)) === sig) continue;
      this.sent.set(idKey(id), sig);
      if (signalIfAlive(id, sig) && sig !== 'SIGKILL') signalIfAlive(id, 'SIGCONT');
    }
  }

  /** A live process with our group id in `table` (zombies are dead: they hold nothing but a pid). */
  private groupLivesIn(table: ProcRow[]): boolean {
    return this.groupIsOurs(table) && table.some((r) => r.pgid === this.rootPid && !isDeadState(r.state) && r.pid !== process.pid);
  }

  /**
   * Gone means every tracked process is dead and the group is empty: then nobody is left who could
   * still fork, and no table needs reading. While some are alive, the table is read now and then
   * to catch what they fork; once every tracked process is dead but the group is not empty, it is
   * read after a moment (our own dead child is usually reaped by then), to find out whether an
   * untracked member is alive or only zombies remain.
   */
  async waitGone(sig: NodeJS.Signals, deadline: number): Promise<boolean> {
    let lastScan = performance.now();
    let quietAt: number | undefined;
    let pause = FIRST_POLL_MS;
    for (;;) {
      const quiet = this.alive().length === 0;
      if (quiet && !this.groupLives()) return true;
      quietAt = quiet ? (quietAt ?? performance.now()) : undefined;
      const now = performance.now();
      if ((quietAt !== undefined && now - quietAt >= REAP_WAIT_MS) || now - lastScan >= RESCAN_MS) {
        lastScan = now;
        const table = await readProcRows();
        this.sweep(sig, table);
        if (this.alive().length === 0 && !this.groupLivesIn(table)) return true;
      }
      if (performance.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause + 1, POLL_MS);
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
