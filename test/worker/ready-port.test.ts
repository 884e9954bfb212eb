import { getEventListeners } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitForPort } from '../../src/worker/ready.js';

describe('waitForPort', () => {
  it('leaves no abort listener behind however many times it polls', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const ac = new AbortController();
    const waiting = waitForPort(port, '127.0.0.1', ac.signal, 5);
    // Some tens of polls against a closed port, then the server appears.
    await new Promise((r) => setTimeout(r, 200));
    expect(getEventListeners(ac.signal, 'abort').length).toBeLessThanOrEqual(1);
    const server = createServer();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    try {
      expect(await waiting).toBe(true);
      expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('answers false at once when aborted', async () => {
    const ac = new AbortController();
    const waiting = waitForPort(1, '127.0.0.1', ac.signal, 10_000);
    ac.abort();
    expect(await waiting).toBe(false);
  });
});
