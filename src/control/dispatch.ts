import { DevsupError } from '../core/errors.js';
import type { SupervisorApi } from '../supervisor/api.js';
// The same error a supervisor in this process throws, so both answers read alike.
import { UnknownWorkerError } from '../supervisor/supervisor.js';
import { BadParams, parseParams } from './params.js';
import type { Request } from './protocol.js';

/**
 * A result known at once is sent before `after` runs, synchronously, so a subscription's first
 * event cannot overtake the answer that starts it.
 */
export type Outcome = { value: unknown; after?: () => void } | Promise<unknown>;

export interface SessionHooks {
  subscribe(): void;
  hold(holder: string): string;
  release(holdId: string): void;
}

/**
 * Maps a request onto the api. Every name is checked against the configured workers first: the
 * socket can act on those, and nothing it is sent ever becomes a command line.
 */
export function dispatch(api: SupervisorApi, req: Request, session: SessionHooks): Outcome {
  const known = (...names: string[]): void => {
    const all = api.snapshot().workers.map((w) => w.name);
    for (const n of names) if (!all.includes(n)) throw new UnknownWorkerError(n, all);
  };
  const done = { value: {} };
  switch (req.method) {
    case 'snapshot':
      return { value: api.snapshot() };
    case 'restart': {
      const names = parseParams.restart(req.params);
      if (names !== 'all') known(...names);
      return api.restart(names).then(() => ({}));
    }
    case 'stop': {
      const name = parseParams.name(req.params);
      known(name);
      return api.stop(name).then(() => ({}));
    }
    case 'start': {
      const name = parseParams.name(req.params);
      known(name);
      return api.start(name).then(() => ({}));
    }
    case 'clearCaches': {
      const name = parseParams.name(req.params);
      known(name);
      return api.clearCaches(name);
    }
    case 'logs': {
      const p = parseParams.logs(req.params);
      known(p.name);
      return { value: { lines: api.logs(p.name, p.lines) }, after: p.follow ? () => session.subscribe() : undefined };
    }
    case 'hold':
      return { value: { holdId: session.hold(parseParams.hold(req.params)) } };
    case 'release':
      session.release(parseParams.release(req.params));
      return done;
    case 'waitFresh': {
      const p = parseParams.waitFresh(req.params);
      known(...p.names);
      return api.waitFresh(p.names, p.timeoutMs);
    }
    case 'subscribe':
      return { value: {}, after: () => session.subscribe() };
    default:
      throw new DevsupError(`unknown method "${req.method}"`, 'unknown-method');
  }
}

export function errorOf(err: unknown): { code: string; message: string } {
  if (err instanceof BadParams) return { code: err.code, message: err.message };
  if (err instanceof DevsupError) return { code: err.code, message: err.message };
  return { code: 'internal', message: err instanceof Error ? err.message : String(err) };
}
