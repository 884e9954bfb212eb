import { readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { bootTimeMs, parseStat, ticksToMs } from './proc-start.js';
import { readPsTable } from './proc-table-ps.js';

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

export async function readProcTable(): Promise<ProcInfo[]> {
  return process.platform === 'linux' ? scanProc() : readPsTable();
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
