import { chmod, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { DevsupError } from '../core/errors.js';
import type { SupervisorApi } from '../supervisor/api.js';
import { writeFileAtomic } from '../state/files.js';
import { acquireLock } from './lock.js';
import { controlPaths, DEFAULT_NAME } from '../state/paths.js';
import { encodeEvent, encodeResponse, errorResponse } from './protocol.js';
import { Session, type SessionOwner } from './session.js';
import { clearStaleSocket, fileId, prepareSocketPath, unlinkIfSame } from './socket-file.js';

export interface ControlServerOptions {
  /** The project root: the config's directory for `up`, the cwd for `run`. */
  root: string;
  name?: string;
  /** For the runtime dir's location (XDG_RUNTIME_DIR); process.env by default. */
  env?: NodeJS.ProcessEnv;
  limits?: Partial<ControlLimits>;
}

/** What clients together may cost the supervisor; past a limit a client gets an error, not memory. */
export interface ControlLimits {
  /** Connections open at once; the next is answered `busy` and closed. */
  maxConnections: number;
  /** Bytes of unfinished request lines held for all clients together (one line may be 1 MiB). */
  maxBufferedBytes: number;
  /** How long an unfinished line may wait for its next byte before its connection is closed. */
  idleLineMs: number;
}

export const DEFAULT_LIMITS: ControlLimits = { maxConnections: 1000, maxBufferedBytes: 8 * 1024 * 1024, idleLineMs: 10_000 };

export interface ControlServer {
  socketPath: string;
  /** Open connections and the unfinished input held for them. */
  usage(): { connections: number; bufferedBytes: number };
  /** Stops serving, releases every hold, removes the socket and the lock. Idempotent. */
  close(): Promise<void>;
}

/** How long a refused connection gets to read why before it is cut. */
const REFUSE_LINGER_MS = 1000;
/** How long connections get to take their last events when the server closes. */
const CLOSE_GRACE_MS = 500;

/**
 * Takes the project's lock (refusing when a live supervisor holds it), then serves `api` on a Unix
 * socket only this user can reach. Nothing a client sends can crash the supervisor or make it run a
 * command of the client's choosing.
 */
export async function startControlServer(api: SupervisorApi, opts: ControlServerOptions): Promise<ControlServer> {
  const paths = controlPaths(opts.root, opts.name ?? DEFAULT_NAME);
  const sock = await prepareSocketPath(paths, opts.env);
  const lock = await acquireLock(paths.lock, { socketPath: sock.path, root: paths.root, name: paths.name });

  const sessions = new Set<Session>();
  const subscribers = new Set<Session>();
  const holds = new Map<string, { session: Session; release: () => void }>();
  let nextHold = 1;
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  let buffered = 0;

  const owner: SessionOwner = {
    api,
    account: (delta) => {
      buffered = Math.max(0, buffered + delta);
      return delta <= 0 || buffered <= limits.maxBufferedBytes;
    },
    idleLineMs: limits.idleLineMs,
    subscribe: (s) => void subscribers.add(s),
    unsubscribe: (s) => void subscribers.delete(s),
    hold: (s, holder) => {
      const id = `h${nextHold++}`;
      holds.set(id, { session: s, release: api.hold(holder) });
      return id;
    },
    release: (id) => {
      const h = holds.get(id);
      if (!h) throw new DevsupError(`no hold "${id}" (released already, or never taken)`, 'unknown-hold', 2);
      holds.delete(id);
      h.session.holds.delete(id);
      h.release();
    },
    // A holder that dies must not pause restarts forever.
    releaseAll: (s) => {
      for (const id of [...s.holds]) owner.release(id);
    },
    closed: (s) => {
      sessions.delete(s);
      subscribers.delete(s);
      owner.releaseAll(s);
    },
  };

  const unsubscribe = api.subscribe((e) => {
    if (subscribers.size === 0) return;
    const text = encodeEvent(e);
    for (const s of subscribers) s.pushEvent(text, e.type === 'output' ? e.worker : undefined);
  });

  const server = createServer({ allowHalfOpen: true }, (socket) => {
    // Clients never keep the supervisor alive.
    socket.unref();
    if (sessions.size >= limits.maxConnections) {
      socket.on('error', () => undefined);
      socket.end(encodeResponse(errorResponse(null, 'busy', `too many connections (${limits.maxConnections}); try again later`)));
      setTimeout(() => socket.destroy(), REFUSE_LINGER_MS).unref();
      return;
    }
    sessions.add(new Session(socket, owner));
  });
  server.on('error', () => undefined);

  let socketId: ReturnType<typeof fileId>;
  const cleanupSync = (): void => {
    unlinkIfSame(sock.path, socketId);
    lock.releaseSync();
  };
  try {
    await clearStaleSocket(sock.path);
    if (sock.inRuntimeDir) await writeFileAtomic(paths.sockPathFile, `${sock.path}\n`);
    else await rm(paths.sockPathFile, { force: true });
    await listen(server, sock.path);
    socketId = fileId(sock.path);
    // The 0700 directory already keeps others out; the mode says so to anyone who looks.
    await chmod(sock.path, 0o600);
  } catch (err) {
    unsubscribe();
    server.close();
    cleanupSync();
    throw err;
  }
  server.unref();
  // A supervisor that ends without close() (process.exit, an uncaught error) still leaves no lock behind.
  process.once('exit', cleanupSync);

  let closing: Promise<void> | undefined;
  return {
    socketPath: sock.path,
    usage: () => ({ connections: sessions.size, bufferedBytes: buffered }),
    close: () =>
      (closing ??= (async () => {
        process.off('exit', cleanupSync);
        unsubscribe();
        const stopped = new Promise<void>((r) => server.close(() => r()));
        await Promise.all([...sessions].map((s) => s.end(CLOSE_GRACE_MS)));
        for (const id of [...holds.keys()]) owner.release(id);
        await stopped;
        unlinkIfSame(sock.path, socketId);
        if (sock.inRuntimeDir) await rm(paths.sockPathFile, { force: true });
        await lock.release();
      })()),
  };
}

function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(path, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
