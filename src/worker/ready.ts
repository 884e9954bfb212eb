import { connect } from 'node:net';

/**
 * Tries this often during the first FAST_FOR_MS, when most development servers open their port,
 * then every `intervalMs`: a connection attempt costs a fraction of a millisecond, a readiness seen
 * late delays everything that depends on it.
 */
const FAST_MS = 25;
const FAST_FOR_MS = 2000;

/** Resolves true once something accepts TCP connections on host:port, false if aborted first. */
export async function waitForPort(port: number, host: string, signal: AbortSignal, intervalMs = 100): Promise<boolean> {
  const t0 = Date.now();
  while (!signal.aborted) {
    if (await tryConnect(port, host)) return !signal.aborted;
    const wait = Date.now() - t0 < FAST_FOR_MS ? Math.min(FAST_MS, intervalMs) : intervalMs;
    await new Promise<void>((resolve) => {
      // The listener goes with its wait: one left per poll would pile up on a slow start.
      const done = (): void => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, wait);
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
