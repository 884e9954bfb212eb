import { connect } from 'node:net';

/** Resolves true once something accepts TCP connections on host:port, false if aborted first. */
export async function waitForPort(port: number, host: string, signal: AbortSignal, intervalMs = 100): Promise<boolean> {
  while (!signal.aborted) {
    if (await tryConnect(port, host)) return !signal.aborted;
    await new Promise<void>((resolve) => {
      // The listener goes with its wait: one left per poll would pile up on a slow start.
      const done = (): void => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, intervalMs);
      signal.addEventListener('abort', done, { once: true });
    });
  }
  return false;
}

function tryConnect(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(1000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}
