import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { bootTimeMs, parseStat, readProcText, ticksToMs, type ProcStat } from './proc-start.js';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** Effective uid (Linux shows root for non-dumpable processes). */
  uid: number;
  /** State letter(s): R, S, D, T, Z, ... */
  state: string;
  /** Same opaque value as ProcId.start, so `{ pid, start }` is a ProcId. */
  start: string;
  startMs: number;
  /** Empty for kernel threads and zombies; split on spaces (lossy) outside Linux. */
  cmdline: string[];
  /** Absent when not readable (another user's process) and outside Linux. */
  cwd?: string;
}

/** What capturing and stopping a tree needs: identity, parentage, group and state. */
export type ProcRow = Pick<ProcInfo, 'pid' | 'ppid' | 'pgid' | 'state' | 'start'>;

/**
 * The process table with only the fields of /proc/PID/stat: one read per process instead of four
 * (stat, owner, cmdline, cwd), which is what a restart waits on.
 */
export async function readProcRows(): Promise<ProcRow[]> {
  if (process.platform !== 'linux') return readProcTable();
  return (await readStatTable()).map((s) => ({ pid: s.pid, ppid: s.ppid, pgid: s.pgid, state: s.state, start: s.startTicks }));
}

/** /proc/PID/stat of every process (Linux only): the one scan of the table for stops and samples. */
export async function readStatTable(): Promise<ProcStat[]> {
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  const out: ProcStat[] = [];
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % (BATCH * 4) === 0) await new Promise((r) => setImmediate(r));
    const text = readProcText(`/proc/${pids[i]!}/stat`);
    // Undefined: gone since readdir.
    const stat = text === undefined ? undefined : parseStat(text);
    if (stat) out.push(stat);
  }
  return out;
}

let childrenListed: boolean | undefined;

/**
 * Our own row, and those of `rootPid` and its descendants, found through each thread's
 * /proc/PID/task/TID/children: what stopping a tree needs first, without reading every process on
 * the machine. Undefined where the kernel does not list children (the whole table is read then).
 * Group members that are not descendants (orphans) are not here; the group signal reaches them.
 */
export function readTreeRows(rootPid: number): ProcRow[] | undefined {
  if (process.platform !== 'linux') return undefined;
  childrenListed ??= existsSync(`/proc/self/task/${process.pid}/children`);
  if (!childrenListed) return undefined;
  const rows: ProcRow[] = [];
  const own = rowOf(process.pid);
  if (own) rows.push(own);
  const seen = new Set<number>([process.pid]);
  for (let todo = [rootPid], pid = todo.pop(); pid !== undefined; pid = todo.pop()) {
    if (seen.has(pid) || !(pid > 0)) continue;
    seen.add(pid);
    const row = rowOf(pid);
    if (!row) continue;
    rows.push(row);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue; // gone meanwhile
    }
    for (const tid of tids) {
      // Undefined when the thread or the process ended meanwhile.
      for (const c of readProcText(`/proc/${pid}/task/${tid}/children`)?.split(' ') ?? []) if (c !== '') todo.push(Number(c));
    }
  }
  return rows;
}

/** One process's row, undefined when it is gone. */
export function rowOf(pid: number): ProcRow | undefined {
  const text = readProcText(`/proc/${pid}/stat`);
  const s = text === undefined ? undefined : parseStat(text);
  return s && { pid: s.pid, ppid: s.ppid, pgid: s.pgid, state: s.state, start: s.startTicks };
}

export async function readProcTable(): Promise<ProcInfo[]> {
  // ps-list is only needed where there is no /proc, so only loaded there.
  return process.platform === 'linux' ? scanProc() : (await import('./table-ps.js')).readPsTable();
}

/** Entries read before handing the event loop back, so a huge /proc never blocks for long. */
const BATCH = 200;

async function scanProc(): Promise<ProcInfo[]> {
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  const bootMs = bootTimeMs();
  const out: ProcInfo[] = [];
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % BATCH === 0) await new Promise((r) => setImmediate(r));
    const info = readEntry(pids[i]!, bootMs);
    if (info) out.push(info);
  }
  return out;
}

function readEntry(pid: string, bootMs: number): ProcInfo | undefined {
  try {
    const stat = parseStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
    if (!stat) return undefined;
    const uid = statSync(`/proc/${pid}`).uid;
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    const cmdline = raw === '' ? [] : raw.replace(/\0$/, '').split('\0');
    const info: ProcInfo = {
      pid: stat.pid,
      ppid: stat.ppid,
      pgid: stat.pgid,
      uid,
      state: stat.state,
      start: stat.startTicks,
      startMs: ticksToMs(stat.startTicks, bootMs),
      cmdline,
    };
    const cwd = readCwd(pid);
    if (cwd !== undefined) info.cwd = cwd;
    return info;
  } catch {
    // Vanished between readdir and here (ENOENT/ESRCH): not a process any more.
    return undefined;
  }
}

function readCwd(pid: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    return undefined;
  }
}
