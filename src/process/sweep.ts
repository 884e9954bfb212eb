import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { isDeadState } from './proc-start.js';
import { readProcRows, type ProcRow } from './table.js';
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
  return holdersIn(token, rows ?? (await readProcRows()), opts);
}

/** As findTokenHolders, in a table already read (the whole table: holders are anywhere in it). */
export function holdersIn(token: string, table: ProcRow[], opts: SweepOptions = {}): ProcId[] {
  if (!linux || !/^[0-9a-f]{32}$/.test(token)) return [];
  const uid = process.getuid?.();
  const notBefore = opts.notBefore !== undefined && /^\d+$/.test(opts.notBefore) ? Number(opts.notBefore) : 0;
  const needle = Buffer.from(token);
  const out: ProcId[] = [];
  for (const r of table) {
    if (r.pid <= 1 || r.pid === process.pid || isDeadState(r.state) || Number(r.start) < notBefore) continue;
    if (holds(r.pid, needle, uid)) out.push({ pid: r.pid, start: r.start });
  }
  return out;
}

/** Whether the process holds the token; unreadable (gone, another user's) counts as no. */
export function holdsToken(pid: number, token: string): boolean {
  return linux && /^[0-9a-f]{32}$/.test(token) && holds(pid, Buffer.from(token), process.getuid?.());
}

function holds(pid: number, needle: Buffer, uid: number | undefined): boolean {
  let env: Buffer;
  try {
    // Root can read everyone's environment: only this user's processes are ours to stop.
    if (uid !== undefined && statSync(`/proc/${pid}`).uid !== uid) return false;
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  // The token counts only as (part of) the value of TOKEN_VAR, not anywhere in some other variable.
  for (let at = env.indexOf(needle); at >= 0; at = env.indexOf(needle, at + 1)) {
    const entry = env.lastIndexOf(0, at) + 1;
    if (env.subarray(entry, entry + PREFIX.length).equals(PREFIX)) return true;
  }
  return false;
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
