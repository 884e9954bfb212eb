import { readFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { DevsupError } from '../core/errors.js';
import type { LogLine, SupervisorSnapshot, WaitFreshResult } from '../supervisor/api.js';
import { errCode } from '../state/files.js';
import { ownerAlive, readLock } from './lock.js';
import { controlPaths, DEFAULT_NAME } from '../state/paths.js';
import { encodeRequest, LineDecoder, type Method, type Methods, type Response } from './protocol.js';
import { fileId, unlinkIfSame } from './socket-file.js';

export interface ConnectOptions {
  root: string;
  name?: string;
  /** How long to keep trying while a live supervisor's socket is not up yet (it is starting). */
  startupWaitMs?: number;
  /**
   * How long to keep looking when no supervisor runs at all, for one that is being launched (a
   * script's `devsup run … &` followed at once by `devsup wait-fresh`). None by default.
   */
  appearWaitMs?: number;
}

/** An event as the supervisor serialised it: `v`, `t`, `type` and the event's fields. */
export type ControlEvent = Record<string, unknown> & { type: string; t: string };

export class NotRunningError extends DevsupError {
  constructor(root: string, extra = '') {
    super(`no devsup is running for ${root}${extra}`, 'not-running', 3);
  }
}

/** Errors a caller could fix by asking differently exit 2, like usage errors. */
const USER_ERRORS = new Set(['unknown-worker', 'bad-params', 'unknown-hold']);

/** Connects to the supervisor running for `root`; throws NotRunningError (exit 3) when none does. */
export async function connectControl(opts: ConnectOptions): Promise<ControlClient> {
  const paths = controlPaths(opts.root, opts.name ?? DEFAULT_NAME);
  const deadline = Date.now() + (opts.startupWaitMs ?? 2000);
  const appearBy = Date.now() + (opts.appearWaitMs ?? 0);
  for (;;) {
    const lock = await readLock(paths.lock).catch(() => undefined);
    const path = lock?.socketPath ?? (await recordedSocket(paths.sockPathFile)) ?? paths.localSocket;
    const before = fileId(path);
    try {
      return new ControlClient(await open(path), { root: paths.root, socketPath: path, pid: lock?.pid });
    } catch (err) {
      const code = errCode(err);
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') {
        throw new DevsupError(`cannot reach devsup for ${paths.root} at ${path}: ${(err as Error).message}`, 'not-running', 3);
      }
      if (lock && ownerAlive(lock)) {
        if (Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          continue;
        }
        throw new DevsupError(`devsup (pid ${lock.pid}) for ${paths.root} does not answer on ${path}`, 'not-answering', 3);
      }
      // Nobody listens and no live supervisor owns it: a crashed supervisor's leftover.
      if (code === 'ECONNREFUSED') unlinkIfSame(path, before);
      if (Date.now() < appearBy) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      throw new NotRunningError(paths.root);
    }
  }
}

async function recordedSocket(file: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.trim() || undefined;
}

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    s.once('connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/** Request/response calls over one connection, plus the events the supervisor pushes on it. */
export class ControlClient {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly queue: ControlEvent[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private readonly decoder = new LineDecoder(512 * 1024 * 1024);
  readonly closed: Promise<void>;

  constructor(
    private readonly socket: Socket,
    readonly info: { root: string; socketPath: string; pid?: number },
  ) {
    socket.on('data', (chunk: Buffer) => {
      for (const line of this.decoder.push(chunk)) this.onLine(line);
    });
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    void this.closed.then(() => this.onClose());
  }

  private onLine(line: string): void {
    let msg: (Response & { event?: undefined }) | { v: number; event: ControlEvent };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.event !== undefined) {
      this.queue.push(msg.event);
      this.wake?.();
      return;
    }
    const p = typeof msg.id === 'number' ? this.pending.get(msg.id) : undefined;
    if (!p) return;
    this.pending.delete(msg.id as number);
    clearTimeout(p.timer);
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new DevsupError(msg.error.message, msg.error.code, USER_ERRORS.has(msg.error.code) ? 2 : 1));
  }

  private onClose(): void {
    this.ended = true;
    this.wake?.();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new DevsupError(`devsup for ${this.info.root} went away before answering`, 'disconnected', 3));
    }
    this.pending.clear();
  }

  /** `timeoutMs: 0` waits as long as it takes. */
  request<M extends Method>(method: M, params: Methods[M]['params'], timeoutMs = 10_000): Promise<Methods[M]['result']> {
    if (this.ended) return Promise.reject(new DevsupError(`devsup for ${this.info.root} went away`, 'disconnected', 3));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new DevsupError(`devsup for ${this.info.root} did not answer ${method} within ${timeoutMs} ms`, 'no-answer', 3));
            }, timeoutMs)
          : undefined;
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(encodeRequest({ v: 1, id, method, params }));
    });
  }

  snapshot(): Promise<SupervisorSnapshot> {
    return this.request('snapshot', {});
  }

  async restart(names: string[] | 'all'): Promise<void> {
    // A restart returns once the new generation is spawned; a slow stop must not look like no answer.
    await this.request('restart', names === 'all' ? { all: true } : { names }, 0);
  }

  async stop(name: string): Promise<void> {
    await this.request('stop', { name }, 0);
  }

  async start(name: string): Promise<void> {
    await this.request('start', { name }, 0);
  }

  async logs(name: string, lines: number, follow = false): Promise<LogLine[]> {
    return (await this.request('logs', { name, lines, follow })).lines;
  }

  async hold(holder: string): Promise<string> {
    return (await this.request('hold', { holder })).holdId;
  }

  async release(holdId: string): Promise<void> {
    await this.request('release', { holdId });
  }

  waitFresh(names: string[], timeoutMs: number): Promise<WaitFreshResult> {
    // The server answers at its own timeout; the margin only catches a supervisor that stopped answering.
    return this.request('waitFresh', { names, timeoutMs }, timeoutMs + 10_000);
  }

  clearCaches(name: string): Promise<{ paths: string[]; bytes: number }> {
    return this.request('clearCaches', { name }, 0);
  }

  /** Subscribes, then yields every event until the supervisor goes away or close() is called. */
  async *events(): AsyncGenerator<ControlEvent> {
    await this.request('subscribe', {});
    yield* this.pushed();
  }

  /** Events already pushed on this connection and those still to come (after subscribe or logs follow). */
  async *pushed(): AsyncGenerator<ControlEvent> {
    for (;;) {
      const e = this.queue.shift();
      if (e) {
        yield e;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }

  close(): void {
    this.socket.end();
    this.socket.destroy();
  }
}
