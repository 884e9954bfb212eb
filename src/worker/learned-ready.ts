import { dirname, isAbsolute, join, sep } from 'node:path';
import { describeListeners } from '../core/events.js';
import { listeningSupported, NO_LISTENERS, treeListeners, TreeSockets, type Listeners } from '../process/listening.js';
import { isAlive, procId, readProcText } from '../process/proc-start.js';
import type { ProcId } from '../process/types.js';
import { ensurePrivateDir, readStateText, writeFileAtomic } from '../state/files.js';

/**
 * Readiness nobody configured, learned from what the worker's tree listens on. A generation that
 * listened on ports teaches them; the next one (in this run or the next, since they are kept in the
 * state directory) is ready once its tree listens on all of them again. A generation that does not
 * reopen one within the bound is ready anyway, with a warning, and the port is no longer awaited.
 * A command never seen before is ready once it listens anywhere (or after FIRST_LISTEN_WAIT_MS).
 *
 * The worker uses it in three places: observe() when a generation is spawned, waitReady() in place
 * of "ready at spawn" when no readiness is configured, listening() for its status.
 */

/** How long a generation may take to reopen what the previous one listened on. */
export const LEARNED_READY_TIMEOUT_MS = 20_000;
/**
 * How long a command never seen before is given to listen somewhere before it counts as ready
 * anyway. Without this wait, a loop of `edit && wait-fresh && curl` run from the very first start
 * kills every generation before it listens, and nothing would ever be learned. A command that
 * never listens pays it once: after it, the file records that it listens on nothing.
 */
export const FIRST_LISTEN_WAIT_MS = 3000;
/** The sockets are looked at this often while awaited (a /proc read of the tree each time). */
const WAIT_POLL_MS = 20;
const WAIT_POLL_SLOW_MS = 100;
/** After this long the wait polls more slowly: a slow boot does not need a fast answer. */
const FAST_POLL_FOR_MS = 2000;
/**
 * How long a tree that listens somewhere new, while learned ports are still closed, is given to
 * open them: the port most likely moved (an edit changed it), and waiting out the full bound for
 * the old one would only delay the restart.
 */
const MOVED_GRACE_MS = 3000;
/**
 * When a running generation's sockets are looked at (ms after its start), then every LATER_MS. Not
 * sooner: each look reads /proc of the whole tree and the kernel's socket tables, and on a small
 * machine that slows down the boot of the child it is looking at (a wait for learned ports is a
 * separate, faster loop).
 */
const SAMPLE_AT_MS = [500, 1000, 2000, 4000, 8000];
const SAMPLE_LATER_MS = 15_000;
const SAMPLE_TABLES_MAX_AGE_MS = 250;

export interface ReadyOutcome {
  listening: Listeners;
  /** Learned endpoints not reopened before the bound (empty when all were). */
  missing: Listeners;
  /** What the tree listens on that was not expected (a port that moved, a new one). */
  added: Listeners;
}

/** `.devsup/<supervisor>.<worker>.ports.json`; the worker's name is escaped, it may be any string. */
export function learnedPortsPath(stateDir: string, supervisor: string, worker: string): string {
  return join(stateDir, `${supervisor}.${encodeURIComponent(worker).replace(/\./g, '%2E')}.ports.json`);
}

/** What the tree under `rootPid` listens on now (nothing outside Linux, or once it is gone). */
export function learnPorts(rootPid: number): Promise<Listeners> {
  return treeListeners(rootPid);
}

/**
 * Resolves once the tree under `rootPid` listens on every endpoint of `expected`, or when
 * `timeoutMs` has passed (then `missing` names what it never reopened), or when `signal` aborts
 * (the generation ended: the caller ignores the answer). A tree that listens somewhere not
 * expected gets MOVED_GRACE_MS more for the rest, not the whole bound.
 */
export async function waitLearnedReady(rootPid: number, expected: Listeners, signal: AbortSignal, timeoutMs: number): Promise<ReadyOutcome> {
  const t0 = Date.now();
  const tree = new TreeSockets(rootPid);
  let movedAt: number | undefined;
  for (;;) {
    const all = await tree.look();
    const missing = minus(expected, all);
    const added = minus(all, expected);
    if (isEmpty(missing)) return { listening: all, missing, added };
    const now = Date.now();
    if (movedAt === undefined && !isEmpty(added)) movedAt = now;
    const elapsed = now - t0;
    const limit = movedAt === undefined ? timeoutMs : Math.min(timeoutMs, movedAt - t0 + MOVED_GRACE_MS);
    if (signal.aborted || elapsed >= limit) return { listening: all, missing, added };
    await sleep(Math.min(elapsed < FAST_POLL_FOR_MS ? WAIT_POLL_MS : WAIT_POLL_SLOW_MS, limit - elapsed), signal);
  }
}

/** The warning for a generation ready without some learned endpoints; undefined when none is missing. */
export function missingWarning(r: ReadyOutcome, timeoutMs = LEARNED_READY_TIMEOUT_MS): string | undefined {
  if (isEmpty(r.missing)) return undefined;
  const instead = isEmpty(r.added) ? `did not within ${Math.round(timeoutMs / 1000)} s` : `listens on ${describeListeners(r.added)} instead`;
  return `ready without ${describeListeners(r.missing)}: the previous generation listened there, this one ${instead}; no longer awaited`;
}

interface SavedPorts {
  v: 1;
  /** The command they were learned from: another command's ports are not awaited. */
  command: string;
  tcp: number[];
  unix: string[];
}

/**
 * One worker's learned endpoints, and what its running generation listens on. Used by the worker
 * only for services without configured readiness (learning) and for every service (display).
 */
export class LearnedReadiness {
  /** Null: nothing known of this command yet (as opposed to known to listen on nothing). */
  private learned: Listeners | null | undefined;
  private loading: Promise<Listeners | null> | undefined;
  /** The previous generation's endpoints, for the "seen twice" rule of ephemeral ports. */
  private previous: Listeners = NO_LISTENERS;
  private gen = 0;
  private root: ProcId | undefined;
  private seen: Listeners = NO_LISTENERS;
  private now: Listeners = NO_LISTENERS;
  private timer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly opts: {
      /** Where the learned endpoints are kept; nothing is kept without it. */
      file?: string;
      /** Identifies the command in the file. */
      command: string;
      /** The project: unix sockets inside it are its own and learned at once. */
      cwd: string;
      timeoutMs?: number;
      onWarning?(message: string): void;
      /**
       * Whether generation `gen` is ready yet. Until it is, the samples for display are skipped: a
       * booting tree rarely listens yet, and twenty services starting at once would otherwise each
       * read their descriptors and the kernel's tables while the others are being spawned. (A wait
       * for learned endpoints looks at the tree itself and notes what it sees.)
       */
      isReady?(gen: number): boolean;
    },
  ) {}

  /** The learned endpoints (loaded from the file the first time); null when nothing is known yet. */
  expected(): Promise<Listeners | null> {
    if (this.learned !== undefined) return Promise.resolve(this.learned);
    this.loading ??= loadLearned(this.opts.file, this.opts.command).then((l) => (this.learned === undefined ? (this.learned = l) : this.learned));
    return this.loading;
  }

  /** What the running generation was last seen listening on. */
  listening(): Listeners {
    return this.now;
  }

  /**
   * Starts looking at generation `gen`'s sockets now and then, for display and to learn them. The
   * looks stop when the root process is gone or a newer generation is observed.
   */
  observe(gen: number, rootPid: number): void {
    if (!listeningSupported) return;
    if (this.gen !== gen && !isEmpty(this.seen)) this.previous = this.seen;
    this.gen = gen;
    this.root = procId(rootPid);
    this.seen = NO_LISTENERS;
    this.now = NO_LISTENERS;
    clearTimeout(this.timer);
    this.schedule(gen, 0);
  }

  private schedule(gen: number, i: number): void {
    const prev = i === 0 ? 0 : (SAMPLE_AT_MS[i - 1] ?? 0);
    const at = SAMPLE_AT_MS[i];
    const delay = at === undefined ? SAMPLE_LATER_MS : at - prev;
    this.timer = setTimeout(() => {
      // Not ready yet: the same look is tried again after the same wait, without a /proc read.
      if (this.opts.isReady && !this.opts.isReady(gen) && this.gen === gen && this.root && isAlive(this.root)) return this.schedule(gen, i);
      void this.sample(gen).then((alive) => {
        if (alive && this.gen === gen) this.schedule(gen, i + 1);
      });
    }, delay);
    this.timer.unref();
  }

  /** Looks at the generation's sockets; false once it is gone. */
  async sample(gen: number): Promise<boolean> {
    const root = this.root;
    if (!root || this.gen !== gen || !isAlive(root)) return false;
    // For display and learning, not for a wait: a read of the tables another worker made a moment ago will do.
    const l = await treeListeners(root.pid, SAMPLE_TABLES_MAX_AGE_MS);
    if (this.gen !== gen) return false;
    this.note(l);
    // Seeing nothing yet proves nothing: a slow server may listen later.
    const keep = this.keepable(this.seen);
    if (!isEmpty(keep)) await this.learn(keep, false);
    return true;
  }

  /**
   * Waits for the learned endpoints after a spawn; for a command never seen before, for it to
   * listen anywhere (FIRST_LISTEN_WAIT_MS at most). Undefined when there is nothing to wait for
   * (it is known to listen on nothing, or not on Linux): the generation is ready once spawned.
   */
  async waitReady(gen: number, rootPid: number, signal: AbortSignal): Promise<ReadyOutcome | undefined> {
    if (!listeningSupported) return undefined;
    const expected = await this.expected();
    if (signal.aborted) return undefined;
    if (expected === null) return this.waitFirstListen(gen, rootPid, signal);
    if (isEmpty(expected)) return undefined;
    const out = await waitLearnedReady(rootPid, expected, signal, this.opts.timeoutMs ?? LEARNED_READY_TIMEOUT_MS);
    if (signal.aborted || this.gen !== gen) return out;
    this.note(out.listening);
    // Never reopened: no longer awaited, so one removed listener costs one slow restart, not all.
    await this.learn(this.keepable(this.seen), !isEmpty(out.missing));
    return out;
  }

  private async waitFirstListen(gen: number, rootPid: number, signal: AbortSignal): Promise<ReadyOutcome | undefined> {
    const t0 = Date.now();
    const tree = new TreeSockets(rootPid);
    let l: Listeners = NO_LISTENERS;
    for (;;) {
      l = await tree.look();
      const elapsed = Date.now() - t0;
      if (!isEmpty(l) || signal.aborted || elapsed >= FIRST_LISTEN_WAIT_MS) break;
      await sleep(Math.min(elapsed < FAST_POLL_FOR_MS ? WAIT_POLL_MS : WAIT_POLL_SLOW_MS, FIRST_LISTEN_WAIT_MS - elapsed), signal);
    }
    if (signal.aborted || this.gen !== gen) return undefined;
    this.note(l);
    const keep = this.keepable(this.seen);
    // Nothing within the wait: known to listen on nothing, so later starts are ready at spawn. A
    // tree that listened only on ports not kept yet (in the random range, seen once) is not known
    // to listen on nothing: the next generation is awaited the same way, and teaches them.
    if (!isEmpty(keep) || isEmpty(this.seen)) await this.learn(keep, false);
    return isEmpty(l) ? undefined : { listening: l, missing: NO_LISTENERS, added: l };
  }

  /** Stops looking (the worker shuts down); waits for a save under way. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.gen = -1;
    await this.saving;
  }

  private note(l: Listeners): void {
    this.now = l;
    this.seen = union(this.seen, l);
  }

  /**
   * What of a generation's endpoints is worth awaiting next time. A port the system hands out at
   * random (in its ephemeral range: a `listen(0)`, a debugger) or a unix socket outside the project
   * (a random temp path) is different every time; it is learned only once two generations in a row
   * listened on it.
   */
  private keepable(l: Listeners): Listeners {
    const [lo, hi] = ephemeralRange();
    const had = union(this.previous, this.learned ?? NO_LISTENERS);
    const cwd = this.opts.cwd.endsWith(sep) ? this.opts.cwd : this.opts.cwd + sep;
    return {
      tcp: l.tcp.filter((p) => p < lo || p > hi || had.tcp.includes(p)),
      unix: l.unix.filter((u) => (isAbsolute(u) && u.startsWith(cwd)) || had.unix.includes(u)),
    };
  }

  /** Adds to what is learned; `replace` drops what the generation did not listen on. */
  private async learn(from: Listeners, replace: boolean): Promise<void> {
    const before = await this.expected();
    const next = replace || before === null ? from : union(before, from);
    if (before !== null && sameListeners(before, next)) return;
    this.learned = next;
    const file = this.opts.file;
    if (!file) return;
    this.saving = this.saving.then(() =>
      saveLearned(file, this.opts.command, next).catch((err: unknown) =>
        this.opts.onWarning?.(`could not keep the learned ports in ${file}: ${(err as Error).message}`),
      ),
    );
    await this.saving;
  }
}

/**
 * What the file says the command listens on; null (nothing known, not an error) when the file is
 * missing, unreadable, a symlink, or for another command.
 */
export async function loadLearned(file: string | undefined, command: string): Promise<Listeners | null> {
  if (!file) return null;
  // Link-free: a symlink planted in .devsup must not make us read (and trust) another file.
  const text = await readStateText(file).catch(() => undefined);
  if (text === undefined) return null;
  try {
    const o = JSON.parse(text) as Partial<SavedPorts>;
    if (o.v !== 1 || o.command !== command || !Array.isArray(o.tcp) || !Array.isArray(o.unix)) return null;
    return {
      tcp: o.tcp.filter((p): p is number => Number.isInteger(p) && p > 0 && p < 65536).sort((a, b) => a - b),
      unix: o.unix.filter((u): u is string => typeof u === 'string' && u !== '').sort(),
    };
  } catch {
    return null;
  }
}

/** Written whole, through a new file renamed into place: a symlink at the path is replaced, never followed. */
export async function saveLearned(file: string, command: string, l: Listeners): Promise<void> {
  await ensurePrivateDir(dirname(file));
  const doc: SavedPorts = { v: 1, command, tcp: l.tcp, unix: l.unix };
  await writeFileAtomic(file, `${JSON.stringify(doc)}\n`);
}

let range: [number, number] | undefined;

/** The system's ephemeral port range (Linux's default when it cannot be read). */
export function ephemeralRange(): [number, number] {
  if (range) return range;
  const m = /(\d+)\s+(\d+)/.exec(readProcText('/proc/sys/net/ipv4/ip_local_port_range') ?? '');
  range = m ? [Number(m[1]), Number(m[2])] : [32768, 60999];
  return range;
}

export function isEmpty(l: Listeners): boolean {
  return l.tcp.length === 0 && l.unix.length === 0;
}

export function minus(a: Listeners, b: Listeners): Listeners {
  return { tcp: a.tcp.filter((p) => !b.tcp.includes(p)), unix: a.unix.filter((u) => !b.unix.includes(u)) };
}

export function union(a: Listeners, b: Listeners): Listeners {
  return {
    tcp: [...new Set([...a.tcp, ...b.tcp])].sort((x, y) => x - y),
    unix: [...new Set([...a.unix, ...b.unix])].sort(),
  };
}

function sameListeners(a: Listeners, b: Listeners): boolean {
  return a.tcp.join(',') === b.tcp.join(',') && a.unix.join('\0') === b.unix.join('\0');
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
