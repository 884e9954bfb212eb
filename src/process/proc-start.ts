import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import type { ProcId } from './types.js';

const linux = process.platform === 'linux';

/** The few fields of /proc/<pid>/stat that devsup needs. */
export interface ProcStat {
  pid: number;
  /** One letter: R, S, D, T, Z, X, ... */
  state: string;
  ppid: number;
  pgid: number;
  /** Start time in clock ticks since boot, exactly as the kernel printed it. */
  startTicks: string;
  /** CPU time so far, user plus system, in clock ticks. */
  cpuTicks: number;
}

export function parseStat(text: string): ProcStat | undefined {
  // comm (field 2) may contain spaces and ')', so fields are counted from the last ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3; field n is f[n - 3]: utime is field 14, stime 15, starttime 22.
  const [state, ppid, pgid, startTicks] = [f[0], f[1], f[2], f[19]];
  if (!state || !ppid || !pgid || !startTicks) return undefined;
  const cpuTicks = Number(f[11]) + Number(f[12]);
  return { pid: Number.parseInt(text, 10), state, ppid: Number(ppid), pgid: Number(pgid), startTicks, cpuTicks: Number.isFinite(cpuTicks) ? cpuTicks : 0 };
}

/** Linux only; undefined when the process does not exist (any more). */
export function readStat(pid: number): ProcStat | undefined {
  if (!validPid(pid)) return undefined;
  const text = readProcText(`/proc/${pid}/stat`);
  return text === undefined ? undefined : parseStat(text);
}

const procBuf = Buffer.allocUnsafe(4096);

/**
 * A small /proc file in one read. These files report a size of 0, so readFileSync stats them and
 * reads twice; on the stop path every process is read this way, often. Undefined when it is gone.
 */
export function readProcText(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const n = readSync(fd, procBuf, 0, procBuf.length, 0);
    // Longer than the buffer (a huge cmdline, say): read it the ordinary way.
    return n < procBuf.length ? procBuf.toString('latin1', 0, n) : readFileSync(path, 'latin1');
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function isDeadState(state: string): boolean {
  return state.startsWith('Z') || state.startsWith('X');
}

let clkTck: number | undefined;
let pageBytes: number | undefined;

/** The auxiliary vector's entries for the page size and USER_HZ (getauxval(AT_PAGESZ), AT_CLKTCK). */
const AT_PAGESZ = 6;
const AT_CLKTCK = 17;
const ARCH_64 = new Set(['x64', 'arm64', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'mips64']);

/**
 * USER_HZ, as the kernel handed it to this process in its auxiliary vector (what `getconf
 * CLK_TCK` reports, without spawning it); 100, what every mainstream Linux architecture uses,
 * when that cannot be read.
 */
export function clockTicks(): number {
  clkTck ??= (linux ? auxvValue(AT_CLKTCK) : undefined) ?? 100;
  return clkTck;
}

/** The size of a memory page, as the kernel handed it to this process; 4096 when unreadable. */
export function pageSize(): number {
  pageBytes ??= (linux ? auxvValue(AT_PAGESZ) : undefined) ?? 4096;
  return pageBytes;
}

/** Resident memory of one process in bytes (Linux); undefined when it is gone. */
export function residentBytes(pid: number): number | undefined {
  const text = validPid(pid) ? readProcText(`/proc/${pid}/statm`) : undefined;
  const pages = Number(text?.split(' ')[1]);
  return Number.isFinite(pages) ? pages * pageSize() : undefined;
}

function auxvValue(wanted: number): number | undefined {
  let auxv: Buffer;
  try {
    auxv = readFileSync('/proc/self/auxv');
  } catch {
    return undefined;
  }
  // Pairs of native words (type, value), ending with type 0.
  const word = ARCH_64.has(process.arch) ? 8 : 4;
  const le = endianness() === 'LE';
  const read = (at: number): number =>
    word === 8
      ? Number(le ? auxv.readBigUInt64LE(at) : auxv.readBigUInt64BE(at))
      : le
        ? auxv.readUInt32LE(at)
        : auxv.readUInt32BE(at);
  for (let at = 0; at + 2 * word <= auxv.length; at += 2 * word) {
    const type = read(at);
    if (type === 0) break;
    if (type === wanted) {
      const value = read(at + word);
      return Number.isSafeInteger(value) && value > 0 ? value : undefined;
    }
  }
  return undefined;
}

/** Boot time in wall-clock ms. /proc/stat's btime is truncated to whole seconds; uptime is not. */
export function bootTimeMs(): number {
  const uptimeS = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
  return Date.now() - uptimeS * 1000;
}

export function ticksToMs(startTicks: string, bootMs: number): number {
  return bootMs + (Number(startTicks) * 1000) / clockTicks();
}

export function procId(pid: number): ProcId | undefined {
  if (linux) {
    const s = readStat(pid);
    return s && { pid, start: s.startTicks };
  }
  const ps = psStatLstart(pid);
  return ps && { pid, start: ps.lstart };
}

export function procStartMs(pid: number): number | undefined {
  if (linux) {
    const s = readStat(pid);
    return s && ticksToMs(s.startTicks, bootTimeMs());
  }
  const ps = psStatLstart(pid);
  return ps && lstartToMs(ps.lstart);
}

/** A ProcId as one string, for maps and sets: equal keys are the same process. */
export function idKey(id: ProcId): string {
  return `${id.pid}:${id.start}`;
}

/** Every process named in any of the lists, once. */
export function unionIds(...lists: readonly (readonly ProcId[])[]): ProcId[] {
  const m = new Map<string, ProcId>();
  for (const l of lists) for (const id of l) m.set(idKey(id), id);
  return [...m.values()];
}

/** Same pid, same start and not a zombie: a reused pid or an unreaped corpse is not "alive". */
export function isAlive(id: ProcId): boolean {
  if (linux) {
    const s = readStat(id.pid);
    return s !== undefined && s.startTicks === id.start && !isDeadState(s.state);
  }
  const ps = psStatLstart(id.pid);
  return ps !== undefined && ps.lstart === id.start && !isDeadState(ps.stat);
}

/**
 * Whether a process with this pid lives, for a record that kept only the pid (another host's
 * format, an older file). A zombie still answers kill(0) but will never release anything, so /proc
 * decides on Linux. Prefer isAlive with a ProcId: a pid alone may have been reused.
 */
export function pidAlive(pid: number): boolean {
  if (!validPid(pid)) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const s = linux ? readStat(pid) : undefined;
  return s === undefined || !isDeadState(s.state);
}

function validPid(pid: number): boolean {
  return Number.isSafeInteger(pid) && pid > 0;
}

// ---- Non-Linux: ps gives whole seconds in local time; the lstart string itself is the identity.

/** `ps lstart` with LC_ALL=C, e.g. "Sun Nov 22 12:05:40 2026", local time. */
export function lstartToMs(lstart: string): number | undefined {
  const ms = Date.parse(lstart);
  return Number.isNaN(ms) ? undefined : ms;
}

function psStatLstart(pid: number): { stat: string; lstart: string } | undefined {
  if (!validPid(pid)) return undefined;
  try {
    const out = execFileSync('ps', ['-o', 'stat=,lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const m = /^\s*(\S+)\s+(.+?)\s*$/.exec(out);
    return m?.[1] && m[2] ? { stat: m[1], lstart: m[2] } : undefined;
  } catch {
    return undefined;
  }
}
