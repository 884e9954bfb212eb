import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isDeadState } from './proc-start.js';
import { readProcRows, rowOf, type ProcRow } from './table.js';
import { TOKEN_VAR } from './token.js';
import type { ProcId } from './types.js';

const linux = process.platform === 'linux';
const PREFIX = Buffer.from(`${TOKEN_VAR}=`);

export interface SweepOptions {
  /**
   * Start ticks of the tree's root: a holder inherited the token from it, so it cannot have
   * started earlier. Only processes started since then are read, which on a busy machine is
   * usually a handful instead of thousands.
   */
  notBefore?: string;
}

/**
 * Live processes of this user whose environment carries `token`, whatever their parent or group:
 * the daemons a tree left behind. Linux only (/proc/PID/environ); elsewhere none are found.
 * `rows` is the process table when the caller has read it already.
 */
export async function findTokenHolders(token: string, rows?: ProcRow[], opts: SweepOptions = {}): Promise<ProcId[]> {
  if (!linux || !/^[0-9a-f]{32}$/.test(token)) return [];
  const unsure: ProcRow[] = [];
  const found = holdersIn(token, rows ?? (await readProcRows()), opts, unsure);
  return [...found, ...(await settle(token, unsure))];
}

/** Looks again, a few times a few ms apart, at processes whose environment could not be read yet. */
export async function settle(token: string, unsure: ProcRow[]): Promise<ProcId[]> {
  const out: ProcId[] = [];
  for (let i = 0; i < UNSURE_TRIES && unsure.length > 0; i++) {
    await new Promise((r) => setTimeout(r, UNSURE_WAIT_MS));
    out.push(...recheck(token, unsure));
  }
  return out;
}

/**
 * The holders among `unsure` that can be told now; the ones still unsure stay in the array. A
 * process that is gone or became another one (same pid, another start) is dropped.
 */
export function recheck(token: string, unsure: ProcRow[]): ProcId[] {
  const needle = Buffer.from(token);
  const uid = process.getuid?.();
  const out: ProcId[] = [];
  const still: ProcRow[] = [];
  for (const r of unsure) {
    if (rowOf(r.pid)?.start !== r.start) continue;
    const v = holds(r.pid, needle, uid);
    if (v === YES) out.push({ pid: r.pid, start: r.start });
    else if (v === UNSURE) still.push(r);
  }
  unsure.splice(0, unsure.length, ...still);
  return out;
}

/**
 * As findTokenHolders, in a table already read (the whole table: holders are anywhere in it).
 * Processes whose environment reads empty (one that is in the middle of an exec shows none for a
 * moment) go to `unsure`, when given, to be looked at again.
 */
export function holdersIn(token: string, table: ProcRow[], opts: SweepOptions = {}, unsure?: ProcRow[]): ProcId[] {
  if (!linux || !/^[0-9a-f]{32}$/.test(token)) return [];
  const uid = process.getuid?.();
  const notBefore = opts.notBefore !== undefined && /^\d+$/.test(opts.notBefore) ? Number(opts.notBefore) : 0;
  const needle = Buffer.from(token);
  const out: ProcId[] = [];
  for (const r of table) {
    if (r.pid <= 2 || r.ppid === 2 || r.pid === process.pid || isDeadState(r.state) || Number(r.start) < notBefore) continue;
    const v = holds(r.pid, needle, uid);
    if (v === YES) out.push({ pid: r.pid, start: r.start });
    else if (v === UNSURE) unsure?.push(r);
  }
  return out;
}

/** Whether the process holds the token; unreadable (gone, another user's) counts as no. */
export function holdsToken(pid: number, token: string): boolean {
  return linux && /^[0-9a-f]{32}$/.test(token) && holds(pid, Buffer.from(token), process.getuid?.()) === YES;
}

const NO = 0;
const YES = 1;
const UNSURE = 2;
/** An exec is over within a millisecond or two; a process whose environment stays empty has none. */
const UNSURE_TRIES = 5;
const UNSURE_WAIT_MS = 2;

function holds(pid: number, needle: Buffer, uid: number | undefined): typeof NO | typeof YES | typeof UNSURE {
  let env: Buffer;
  try {
    // Root can read everyone's environment: only this user's processes are ours to stop.
    if (uid !== undefined && statSync(`/proc/${pid}`).uid !== uid) return NO;
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return NO;
  }
  if (env.length === 0) return UNSURE;
  // The token counts only as (part of) the value of TOKEN_VAR, not anywhere in some other variable.
  for (let at = env.indexOf(needle); at >= 0; at = env.indexOf(needle, at + 1)) {
    const entry = env.lastIndexOf(0, at) + 1;
    if (env.subarray(entry, entry + PREFIX.length).equals(PREFIX)) return YES;
  }
  return NO;
}

/** Whether the process belongs to this user (false when gone, or unknown outside Linux). */
export function ownedByUs(pid: number): boolean {
  const uid = process.getuid?.();
  if (!linux || uid === undefined) return false;
  try {
    return statSync(`/proc/${pid}`).uid === uid;
  } catch {
    return false;
  }
}

/** A short digest of the process's command line, to tell later whether a pid still runs it. */
export function commandDigest(pid: number): string | undefined {
  if (!linux) return undefined;
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`);
    return raw.length === 0 ? undefined : createHash('sha1').update(raw).digest('hex').slice(0, 16);
  } catch {
    return undefined;
  }
}
