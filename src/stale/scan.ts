import { realpathSync } from 'node:fs';
import { shq } from '../doctor/shell.js';
import { selectProjectProcesses, rootPaths } from './membership.js';
import { clockTicks } from '../process/proc-start.js';
import { readProcTable, type ProcInfo } from '../process/table.js';
import { listSources, type SourceFile } from './sources.js';

export interface NewerFile {
  path: string;
  /** Relative to the root. */
  rel: string;
  mtimeNs: bigint;
  /** How long after the process started the file was last modified. */
  afterStartMs: number;
}

export type Verdict = 'stale' | 'fresh';

export interface ProjectProcess {
  pid: number;
  ppid: number;
  /** The OS's opaque start value: `{ pid, start }` is the ProcId that guards against pid reuse. */
  start: string;
  startMs: number;
  ageMs: number;
  argv: string[];
  /** The command line, quoted so it can be pasted into a shell. */
  command: string;
  cwd?: string;
  verdict: Verdict;
  /** The newest source files modified after the start (at most MAX_NEWER), newest first: empty exactly when fresh. */
  newer: NewerFile[];
  /** How many source files were modified after the start, all told. */
  newerCount: number;
}

/** Files kept per process: a scan of a huge tree must not hold every file once per process. */
export const MAX_NEWER = 20;

export interface ScanResult {
  root: string;
  scannedAtMs: number;
  /** Modifications this close after a start are not counted; see startToleranceMs. */
  toleranceMs: number;
  sourceCount: number;
  /** Oldest first. */
  processes: ProjectProcess[];
}

export interface ScanOptions {
  /** A process table read earlier; read now when absent. */
  table?: ProcInfo[];
  /** The process whose ancestors are left out; this one by default. */
  selfPid?: number;
  /** Whose processes are listed; this process's uid by default. */
  uid?: number;
  now?: () => number;
}

/**
 * How far after a start a modification must be to prove the process started before it.
 * On Linux the start is truncated to a clock tick (10 ms at USER_HZ 100) and turned into wall time
 * through /proc/uptime, itself in hundredths of a second; two ticks plus that covers both.
 * Elsewhere `ps` gives whole seconds, truncated, so anything within the second is inconclusive.
 * Erring this way calls a process fresh when an edit landed in the very instant it started; it
 * would most likely have read the edited file anyway, since interpreters read sources after startup.
 */
export function startToleranceMs(): number {
  return process.platform === 'linux' ? (2 * 1000) / clockTicks() + 10 : 1000;
}

export async function scanProject(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const paths = rootPaths(root);
  const [table, sources] = await Promise.all([opts.table ?? readProcTable(), listSources(paths.given)]);
  const now = (opts.now ?? Date.now)();
  const toleranceMs = startToleranceMs();
  const rows = selectProjectProcesses(table, paths, {
    selfPid: opts.selfPid ?? process.pid,
    uid: opts.uid ?? process.getuid?.(),
    selfScript: ownEntryScript(),
  });
  const processes = rows
    .map((row) => judge(row, sources, toleranceMs, now))
    .sort((a, b) => a.startMs - b.startMs || a.pid - b.pid);
  return { root: paths.given, scannedAtMs: now, toleranceMs, sourceCount: sources.length, processes };
}

function judge(row: ProcInfo, sources: readonly SourceFile[], toleranceMs: number, now: number): ProjectProcess {
  const startNs = BigInt(Math.round(row.startMs * 1e6));
  const limitNs = startNs + BigInt(Math.round(toleranceMs * 1e6));
  const newerCount = countNewer(sources, limitNs);
  const newer = sources.slice(0, Math.min(newerCount, MAX_NEWER)).map((f) => ({
    path: f.path,
    rel: f.rel,
    mtimeNs: f.mtimeNs,
    afterStartMs: Number(f.mtimeNs - startNs) / 1e6,
  }));
  const out: ProjectProcess = {
    pid: row.pid,
    ppid: row.ppid,
    start: row.start,
    startMs: row.startMs,
    ageMs: Math.max(0, now - row.startMs),
    argv: row.cmdline,
    command: displayCommand(row.cmdline),
    verdict: newerCount > 0 ? 'stale' : 'fresh',
    newer,
    newerCount,
  };
  if (row.cwd !== undefined) out.cwd = row.cwd;
  return out;
}

/** Sources are sorted newest first, so the files past `limitNs` are a prefix; its length by bisection. */
function countNewer(sources: readonly SourceFile[], limitNs: bigint): number {
  let lo = 0;
  let hi = sources.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sources[mid]!.mtimeNs > limitNs) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Programs that retitle themselves (npm does) leave their old argv slots empty; those are not arguments. */
function displayCommand(argv: readonly string[]): string {
  let end = argv.length;
  while (end > 1 && argv[end - 1] === '') end--;
  return argv.slice(0, end).map(shq).join(' ');
}

function ownEntryScript(): string | undefined {
  const script = process.argv[1];
  if (script === undefined) return undefined;
  try {
    return realpathSync(script);
  } catch {
    return undefined;
  }
}
