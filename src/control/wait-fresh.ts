import type { SupervisorApi, WaitFreshResult } from '../supervisor/api.js';

/** True once no hold is active, false if `timeoutMs` passes first. */
export function holdsReleased(api: SupervisorApi, timeoutMs: number): Promise<boolean> {
  if (api.snapshot().holds.length === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      off();
      clearTimeout(timer);
      resolve(ok);
    };
    const off = api.subscribe((e) => {
      if (e.type === 'release' && e.holds === 0) done(true);
    });
    // A client's wait must never keep a supervisor that is shutting down alive.
    const timer = setTimeout(() => done(false), timeoutMs).unref();
  });
}

/**
 * waitFresh that first waits for every hold to be released. The api's barrier settles pending
 * changes at once, held or not: asked during a hold, it would start the workers on the half-written
 * state the hold is there to hide.
 */
export async function waitFreshAfterHolds(api: SupervisorApi, names: string[], timeoutMs: number): Promise<WaitFreshResult> {
  const t0 = Date.now();
  if (!(await holdsReleased(api, timeoutMs))) {
    return { ok: false, tasks: [], waiting: api.snapshot().holds.map((h) => `the release of the hold by ${h}`) };
  }
  return api.waitFresh(names, Math.max(0, timeoutMs - (Date.now() - t0)));
}
