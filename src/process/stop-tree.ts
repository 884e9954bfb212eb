import { readdirSync } from 'node:fs';
import { idKey, isAlive, isDeadState, readStat, unionIds } from './proc-start.js';
import { holdersIn, recheck, settle } from './sweep.js';
import { readProcRows, readTreeRows, rowOf, type ProcRow } from './table.js';
import { forgetToken, tokenOf } from './token.js';
import type { ProcId, StopResult } from './types.js';

export interface StopOptions {
  signal?: NodeJS.Signals;
  graceMs?: number;
  giveUpMs?: number;
  /** A tree captured earlier (e.g. while the root was still alive); otherwise captured now. */
  captured?: ProcId[];
  /**
   * The tree's token (see token.ts): every process of this user holding it is part of the tree,
   * wherever it was re-parented. By default the one spawnChild gave the root.
   */
  token?: string;
  /** Signal the root's process group as a whole (default); false when the root is not known to be ours. */
  group?: boolean;
  /**
   * Settles when the root is seen to exit (a child's exit event): the tree is looked at again right
   * then instead of at the next poll, which on a loaded machine can come several ms later.
   */
  exited?: Promise<unknown>;
}

/** Polls start 1 ms apart (a polite child is gone within a few ms) and slow down by 1 ms each to POLL_MS. */
const FIRST_POLL_MS = 1;
const POLL_MS = 15;
/** Re-reading the whole table is the expensive part of a poll, so it happens less often. */
const RESCAN_MS = 100;
/** How long a group with every tracked process dead may take to empty before the table is read. */
const REAP_WAIT_MS = 5;
/** How long a process whose environment reads empty is looked at again before it is taken to have none. */
const UNSURE_MS = 20;

/**
 * Every live process of the tree: the root, members of the group it leads, and every descendant of
 * either by ppid (which catches descendants that left the group with setsid).
 * Given a ProcId, a root whose pid now belongs to another process captures nothing: the kernel
 * keeps a group id allocated while any member lives, so the old group is gone too.
 */
export async function captureTree(root: number | ProcId, table?: ProcRow[]): Promise<ProcId[]> {
  const rows = table ?? (await readProcRows());
  const tree = treeRows(root, rows).map(toId);
  const token = typeof root === 'number' ? undefined : tokenOf(root);
  if (token === undefined || typeof root === 'number') return tree;
  const unsure: ProcRow[] = [];
  const holders = holdersIn(token, rows, { notBefore: root.start }, unsure);
  return unionIds(tree, holders, await settle(token, unsure));
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
  const partial = opts.captured ? undefined : readTreeRows(rootPid);
  const table = partial ?? (await readProcRows());
  const captured = opts.captured ?? treeRows(root, table).map(toId);
  const rootStart = typeof root === 'number' ? table.find((r) => r.pid === rootPid)?.start : root.start;
  const rootId = rootStart === undefined ? undefined : { pid: rootPid, start: rootStart };
  // Holders are found through /proc/PID/environ: elsewhere a token would cost a table read for nothing.
  const token = process.platform === 'linux' ? (opts.token ?? (rootId && tokenOf(rootId))) : undefined;
  const tree = new Tree(rootPid, rootStart, opts.group !== false, token);
  tree.track(captured);

  let forced = false;
  let gone = false;
  if (signal !== 'SIGKILL') {
    tree.sweep(signal, table, partial === undefined ? table : undefined);
    // The tree as it hangs from the root has had the signal; now the rest of the machine is
    // looked through for token holders, while the tree shuts down.
    if (token !== undefined && !tree.sweptWhole) {
      const all = await readProcRows();
      tree.sweep(signal, all, all);
    }
    gone = await tree.waitGone(signal, started + graceMs, opts.exited);
    forced = !gone;
  }
  if (!gone) {
    const all = await readProcRows();
    tree.sweep('SIGKILL', all, all);
    gone = await tree.waitGone('SIGKILL', performance.now() + giveUpMs);
  }
  if (gone && rootId && token !== undefined && opts.token === undefined) forgetToken(rootId);
  return {
    signal,
    forced,
    gaveUp: !gone,
    durationMs: performance.now() - started,
    treeSize: tree.size,
    survivors: tree.alive(),
    signalled: tree.signalled(),
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
  /** Processes a signal was delivered to: what a caller may report as stopped. */
  private readonly delivered = new Map<string, ProcId>();
  /** Whether the whole table has been looked through for token holders since the last signal. */
  sweptWhole = false;
  /** Processes whose environment read empty: maybe mid-exec, so not yet known either way. */
  private readonly unsure: ProcRow[] = [];
  private unsureSince: number | undefined;
  /** Processes (pid and start) whose environment has been looked at. */
  private readonly looked = new Set<string>();
  /** The pids (and starts) of the last whole table read, for lastLook. */
  private listed: Map<number, string> | undefined;

  constructor(
    private readonly rootPid: number,
    /** Undefined when the root was already gone when stopping began. */
    private readonly rootStart: string | undefined,
    private readonly useGroup: boolean,
    private readonly token: string | undefined,
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

  signalled(): ProcId[] {
    return [...this.delivered.values()];
  }

  /**
   * The group id is still ours unless its pid now belongs to another process: a group id stays
   * allocated while any member lives, so a reused root pid means our group has ended.
   */
  private groupIsOurs(table: ProcRow[]): boolean {
    if (!this.useGroup) return false;
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
    if (!this.useGroup || pgid <= 1 || pgid === process.pid || pgid === readStat(process.pid)?.pgid) return false;
    const rootNow = readStat(pgid);
    if (rootNow && rootNow.startTicks !== this.rootStart) return false;
    try {
      process.kill(-pgid, 0);
      return true;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EPERM';
    }
  }

  /**
   * Adds processes forked since the last look, and the token's holders among `candidates` (the
   * whole table, or what is new in it), then signals everyone not yet given `sig`.
   */
  sweep(sig: NodeJS.Signals, table: ProcRow[], candidates?: ProcRow[]): void {
    if (candidates && this.token !== undefined) {
      // Each process's environment is read once per stop: the rescans of a long grace period
      // look only at processes they have not seen.
      const unseen = candidates.filter((r) => !this.looked.has(idKey(toId(r))));
      for (const r of unseen) this.looked.add(idKey(toId(r)));
      this.track(holdersIn(this.token, unseen, this.rootStart === undefined ? {} : { notBefore: this.rootStart }, this.unsure));
      this.sweptWhole = true;
    }
    // Processes caught in the middle of an exec, looked at again at every sweep until they tell;
    // one whose environment stays empty has none (`env -i`), and is given up on.
    if (this.token !== undefined && this.unsure.length > 0) {
      this.unsureSince ??= performance.now();
      this.track(recheck(this.token, this.unsure));
      if (performance.now() - this.unsureSince > UNSURE_MS) this.unsure.length = 0;
    }
    if (this.unsure.length === 0) this.unsureSince = undefined;
    if (candidates === table) this.listed = new Map(table.map((r) => [r.pid, r.start]));
    const own = table.find((r) => r.pid === process.pid)?.pgid;
    const pgid = this.rootPid;
    const group = this.groupIsOurs(table) && pgid > 1 && pgid !== own && pgid !== process.pid;
    this.track(closure(table, (r) => this.members.has(idKey(toId(r))) || (group && r.pgid === pgid)).map(toId));

    if (group && !this.groupSent.has(sig) && table.some((r) => r.pgid === pgid && !isDeadState(r.state))) {
      this.groupSent.add(sig);
      const hit = killGroup(pgid, sig);
      for (const r of table) {
        if (r.pgid !== pgid) continue;
        this.sent.set(idKey(toId(r)), sig);
        if (hit && !isDeadState(r.state)) this.delivered.set(idKey(toId(r)), toId(r));
      }
      // A stopped process would not act on SIGTERM until continued.
      if (sig !== 'SIGKILL') killGroup(pgid, 'SIGCONT');
    }
    for (const id of this.members.values()) {
      if (this.sent.get(idKey(id)) === sig) continue;
      this.sent.set(idKey(id), sig);
      if (!signalIfAlive(id, sig)) continue;
      this.delivered.set(idKey(id), id);
      if (sig !== 'SIGKILL') signalIfAlive(id, 'SIGCONT');
    }
  }

  /**
   * The last look before calling a tree with a token gone, for anything it forked since the whole
   * table was read: only pids that were not listed then are read (a directory listing of /proc
   * and a few stat files, instead of thousands). A listed pid is taken to be the same process: a
   * pid is handed out again only after the kernel has gone through every other free one.
   */
  async lastLook(sig: NodeJS.Signals): Promise<void> {
    const listed = this.listed;
    if (!listed) {
      const table = await readProcRows();
      this.sweep(sig, table, table);
      return;
    }
    const fresh = newRows(listed);
    const memberPids = new Set([...this.members.values()].map((m) => m.pid));
    const known = [process.pid, ...memberPids].map(rowOf).filter((r): r is ProcRow => r !== undefined);
    this.sweep(sig, [...known, ...fresh], fresh);
    for (const r of fresh) listed.set(r.pid, r.start);
  }

  /** A live process with our group id in `table` (zombies are dead: they hold nothing but a pid). */
  private groupLivesIn(table: ProcRow[]): boolean {
    return this.groupIsOurs(table) && table.some((r) => r.pgid === this.rootPid && !isDeadState(r.state) && r.pid !== process.pid);
  }

  /**
   * Gone means every tracked process is dead and the group is empty, and, for a tree with a token,
   * that a look through the whole table after that found no holder alive: then nobody is left who
   * could still fork. While some are alive, the table is read now and then to catch what they
   * fork; once every tracked process is dead but the group is not empty, it is read after a
   * moment (our own dead child is usually reaped by then), to find out whether an untracked member
   * is alive or only zombies remain.
   */
  async waitGone(sig: NodeJS.Signals, deadline: number, exited?: Promise<unknown>): Promise<boolean> {
    let lastScan = performance.now();
    let quietAt: number | undefined;
    let pause = FIRST_POLL_MS;
    // The root's exit wakes one poll early; after that the polls go on as before.
    let wake = exited?.then(
      () => undefined,
      () => undefined,
    );
    for (;;) {
      const quiet = this.alive().length === 0;
      if (!quiet) this.sweptWhole = false;
      if (quiet && !this.groupLives() && (this.token === undefined || (this.sweptWhole && this.unsure.length === 0))) return true;
      quietAt = quiet ? (quietAt ?? performance.now()) : undefined;
      const now = performance.now();
      if (quiet && !this.groupLives()) {
        await this.lastLook(sig);
        if (this.alive().length === 0) return true;
      } else if ((quietAt !== undefined && now - quietAt >= REAP_WAIT_MS) || now - lastScan >= RESCAN_MS) {
        lastScan = now;
        const table = await readProcRows();
        this.sweep(sig, table, table);
        // A whole table, token holders included: nothing left but zombies means gone.
        if (this.alive().length === 0 && !this.groupLivesIn(table)) return true;
      }
      if (performance.now() >= deadline) return false;
      const early = wake;
      const woken = await new Promise<boolean>((r) => {
        const timer = setTimeout(() => r(false), pause);
        void early?.then(() => {
          clearTimeout(timer);
          r(true);
        });
      });
      if (woken) wake = undefined;
      pause = Math.min(pause + 1, POLL_MS);
    }
  }
}

/** Rows of the processes whose pids were not in `listed` (or are there with another start). */
function newRows(listed: Map<number, string>): ProcRow[] {
  const out: ProcRow[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const n of names) {
    const pid = Number(n);
    if (!(pid > 0) || listed.has(pid)) continue;
    const row = rowOf(pid);
    if (row) out.push(row);
  }
  return out;
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

function killGroup(pgid: number, sig: NodeJS.Signals): boolean {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) return false;
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    // ESRCH: the group emptied meanwhile.
    return false;
  }
}
