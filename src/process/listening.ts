import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { bootTimeMs, readProcText, readStat, ticksToMs } from './proc-start.js';
import { readProcRows, readTreeRows, type ProcRow } from './table.js';

import type { Listeners } from '../core/events.js';

export type { Listeners };

export const NO_LISTENERS: Listeners = Object.freeze({ tcp: [], unix: [] }) as Listeners;

/** Linux is the only system whose sockets can be matched to processes without a helper program. */
export const listeningSupported = process.platform === 'linux';

/** Limits that keep one look cheap whatever the tree does (a fork bomb, a process with 100k fds). */
const MAX_TREE = 256;
const MAX_FDS_PER_PROCESS = 65_536;

/** A listening socket as /proc/net lists it: its inode, and a port or a path. */
interface Socket {
  inode: string;
  tcp?: number;
  unix?: string;
  /** Owner of the socket (TCP tables only). */
  uid?: number;
}

/** TCP state 0A is LISTEN (include/net/tcp_states.h). */
const TCP_LISTEN = '0A';
/** __SO_ACCEPTCON in a unix socket's flags: listen() was called on it. */
const SO_ACCEPTCON = 0x10000;

export function parseTcpTable(text: string): Socket[] {
  const out: Socket[] = [];
  for (const line of text.split('\n').slice(1)) {
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== TCP_LISTEN) continue;
    const port = Number.parseInt(f[1]!.slice(f[1]!.lastIndexOf(':') + 1), 16);
    if (Number.isInteger(port) && f[9] !== '0') out.push({ inode: f[9]!, tcp: port, uid: Number(f[7]) });
  }
  return out;
}

export function parseUnixTable(text: string): Socket[] {
  const out: Socket[] = [];
  for (const line of text.split('\n').slice(1)) {
    // Num RefCount Protocol Flags Type St Inode Path
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const flags = Number.parseInt(f[3]!, 16);
    if (!(flags & SO_ACCEPTCON)) continue;
    // A path with spaces is split too: the path is everything after the inode.
    const path = f.slice(7).join(' ');
    out.push({ inode: f[6]!, unix: path });
  }
  return out;
}

/**
 * The listening sockets in the network namespace of `pid` (the child's, which is ours unless it
 * made its own). Reading another process's tables needs no privilege beyond seeing the process.
 * A read at most `maxAgeMs` old of the same namespace is reused: twenty services each looking at
 * their sockets would otherwise read the same tables twenty times, milliseconds each, on the one
 * thread that also spawns and routes events (a socket not yet in the reused read is seen on the
 * next look; one closed since is no longer among the tree's descriptors, which are read fresh).
 */
function listeningSockets(pid: number, unix: boolean, maxAgeMs = 0): Socket[] {
  const ns = netNamespace(pid);
  const key = `${ns ?? `pid ${pid}`}${unix ? ' +unix' : ''}`;
  const now = Date.now();
  const hit = tablesRead.get(key);
  if (hit && now - hit.at <= maxAgeMs) return hit.sockets;
  const read = (name: string): string => readTable(`/proc/${pid}/net/${name}`) ?? readTable(`/proc/net/${name}`) ?? '';
  const out = [...parseTcpTable(read('tcp')), ...parseTcpTable(read('tcp6'))];
  if (unix) out.push(...parseUnixTable(read('unix')));
  // Only a namespace that could be named is shared; the cache holds one read per namespace.
  if (ns !== undefined) tablesRead.set(key, { at: now, sockets: out });
  return out;
}

const tablesRead = new Map<string, { at: number; sockets: Socket[] }>();

/** `net:[4026531840]`: the same for every process in one network namespace. */
function netNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/net`);
  } catch {
    return undefined;
  }
}

/**
 * A /proc/net table, read to its end. The kernel hands these out a page at a time, so a short read
 * is not the end of the file (as it is for /proc/PID/stat): readFileSync reads until EOF.
 */
function readTable(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** The socket inodes among a process's open descriptors; empty when it is gone or not ours to read. */
export function socketInodes(pid: number): Set<string> {
  const out = new Set<string>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out; // ENOENT: gone; EACCES: another user's
  }
  for (const fd of fds.slice(0, MAX_FDS_PER_PROCESS)) {
    let target: string;
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (target.startsWith('socket:[')) out.add(target.slice(8, -1));
  }
  return out;
}

/** Pids of `rootPid` and its descendants (bounded), or just the root where children are not listed. */
export async function treePids(rootPid: number): Promise<number[]> {
  const rows = readTreeRows(rootPid) ?? (await readProcRows());
  const kids = new Map<number, ProcRow[]>();
  for (const r of rows) kids.set(r.ppid, [...(kids.get(r.ppid) ?? []), r]);
  const out: number[] = [];
  for (let todo = [rootPid], pid = todo.pop(); pid !== undefined && out.length < MAX_TREE; pid = todo.pop()) {
    if (out.includes(pid)) continue;
    out.push(pid);
    for (const k of kids.get(pid) ?? []) if (!k.state.startsWith('Z')) todo.push(k.pid);
  }
  return out;
}

/** What the tree under `rootPid` listens on now. Empty outside Linux, and for a tree that is gone. */
export async function treeListeners(rootPid: number, tablesMaxAgeMs = 0): Promise<Listeners> {
  return new TreeSockets(rootPid, { tablesMaxAgeMs }).look();
}

/** Socket inodes of every process of the tree, and the key that tells whether they changed. */
async function treeInodes(rootPid: number): Promise<Set<string>> {
  const inodes = new Set<string>();
  for (const pid of await treePids(rootPid)) for (const i of socketInodes(pid)) inodes.add(i);
  return inodes;
}

/** How old a read of the tables a waiting look may reuse: about one poll of a readiness wait. */
const TABLES_SHARED_MS = 20;

/**
 * Repeated looks at one tree, cheap enough to poll every few milliseconds. Reading the kernel's TCP
 * tables costs milliseconds however few sockets they list (it walks the whole hash table), while a
 * tree's descriptors take a fraction of that: the tables are read only when the tree's set of
 * sockets changed since the previous look (and for a short while after, as listen() follows
 * socket()), and otherwise at most every TABLES_EVERY_MS; the first look reads them once. A tree
 * without any socket listens on nothing: no table is read.
 */
export class TreeSockets {
  private key = '';
  private looked = false;
  /** How often the kernel's socket tables were read (what a look costs). */
  tablesRead = 0;
  private hotUntil = 0;
  private tablesAt = -Infinity;
  private last: Listeners = { tcp: [], unix: [] };

  constructor(
    private readonly rootPid: number,
    private readonly opts: { tablesEveryMs?: number; hotMs?: number; tablesMaxAgeMs?: number } = {},
  ) {}

  async look(): Promise<Listeners> {
    if (!listeningSupported || readStat(this.rootPid) === undefined) return (this.last = { tcp: [], unix: [] });
    const inodes = await treeInodes(this.rootPid);
    const now = Date.now();
    const key = [...inodes].sort().join(',');
    // The sockets of the first look are mostly what the tree was given (its output goes through
    // socket pairs), not a server's: only a change after it makes the tables worth reading at every
    // look. Polling from the spawn on, that keeps the tables unread while the child boots.
    if (key !== this.key && this.looked) this.hotUntil = now + (this.opts.hotMs ?? 150);
    this.key = key;
    this.looked = true;
    if (inodes.size === 0) return (this.last = { tcp: [], unix: [] });
    if (now < this.hotUntil || now - this.tablesAt >= (this.opts.tablesEveryMs ?? 250)) {
      this.tablesAt = now;
      this.tablesRead++;
      this.last = listenersOf(listeningSockets(this.rootPid, true, this.opts.tablesMaxAgeMs ?? TABLES_SHARED_MS), inodes);
    }
    return this.last;
  }
}

function listenersOf(sockets: Socket[], inodes: Set<string>): Listeners {
  const tcp = new Set<number>();
  const unix = new Set<string>();
  for (const s of sockets) {
    if (!inodes.has(s.inode)) continue;
    if (s.tcp !== undefined) tcp.add(s.tcp);
    // An unnamed listening socket cannot be connected to by anyone else: nothing to wait for.
    else if (s.unix) unix.add(s.unix);
  }
  return { tcp: [...tcp].sort((a, b) => a - b), unix: [...unix].sort() };
}

/** A process that has a TCP port open for listening. */
export interface PortHolder {
  pid: number;
  /** The OS's start value: `{ pid, start }` identifies the process even after its pid is reused. */
  start: string;
  startedAt: string;
  argv: string[];
  cwd?: string;
  /** Set when the process was started by devsup (it carries devsup's environment). */
  devsup?: { generation?: number; codeId?: string };
}

/**
 * Who listens on TCP `port`: every process holding the socket (a forked server shares it with its
 * children). Reads every process's descriptors, so it is for explaining a failure, not for polling.
 * A socket whose holder cannot be read (another user's process) yields `{ uid }` instead.
 */
export async function portHolders(port: number): Promise<{ holders: PortHolder[]; unreadable: number[] }> {
  if (!listeningSupported) return { holders: [], unreadable: [] };
  const sockets = listeningSockets(process.pid, false).filter((s) => s.tcp === port);
  const wanted = new Set(sockets.map((s) => s.inode));
  if (wanted.size === 0) return { holders: [], unreadable: [] };
  const found = new Set<string>();
  const holders: PortHolder[] = [];
  const boot = bootTimeMs();
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % 200 === 0) await new Promise((r) => setImmediate(r));
    const pid = Number(pids[i]);
    const mine = [...socketInodes(pid)].filter((n) => wanted.has(n));
    if (mine.length === 0) continue;
    for (const n of mine) found.add(n);
    const h = describeHolder(pid, boot);
    if (h) holders.push(h);
  }
  const unreadable = [...new Set(sockets.filter((s) => !found.has(s.inode)).map((s) => s.uid ?? -1))];
  return { holders: holders.sort((a, b) => a.pid - b.pid), unreadable };
}

function describeHolder(pid: number, boot: number): PortHolder | undefined {
  const stat = readStat(pid);
  if (!stat) return undefined;
  const raw = readProcText(`/proc/${pid}/cmdline`) ?? '';
  const h: PortHolder = {
    pid,
    start: stat.startTicks,
    startedAt: new Date(ticksToMs(stat.startTicks, boot)).toISOString(),
    argv: raw === '' ? [] : Buffer.from(raw, 'latin1').toString('utf8').replace(/\0$/, '').split('\0'),
  };
  try {
    h.cwd = readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    /* not ours to read, or gone */
  }
  const env = devsupEnv(pid);
  if (env) h.devsup = env;
  return h;
}

/** devsup gives every child DEVSUP=1 and its generation and code id; daemons it forked inherit them. */
function devsupEnv(pid: number): PortHolder['devsup'] {
  // Only the owner can read environ: undefined for anyone else's process.
  const text = readProcText(`/proc/${pid}/environ`);
  if (text === undefined) return undefined;
  const vars = new Map<string, string>();
  for (const kv of text.split('\0')) {
    const eq = kv.indexOf('=');
    if (eq > 0 && kv.startsWith('DEVSUP')) vars.set(kv.slice(0, eq), kv.slice(eq + 1));
  }
  if (vars.get('DEVSUP') !== '1') return undefined;
  const gen = Number(vars.get('DEVSUP_GENERATION'));
  const out: { generation?: number; codeId?: string } = {};
  if (Number.isInteger(gen) && gen > 0) out.generation = gen;
  const code = vars.get('DEVSUP_CODE_ID');
  if (code) out.codeId = code;
  return out;
}
