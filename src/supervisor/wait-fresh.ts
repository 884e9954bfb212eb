import type { Bus } from '../core/bus.js';
import type { DepCheck } from '../worker/machine.js';
import type { Snapshot } from '../watch/snapshot.js';
import type { WaitFreshResult } from './api.js';
import type { Slot } from './supervisor.js';

/** Same code: spawned on this snapshot or a later one, or on identical content. */
function covers(spawned: Snapshot | null | undefined, target: Snapshot): boolean {
  return spawned !== null && spawned !== undefined && (spawned.seq >= target.seq || spawned.codeId === target.codeId);
}

/** A worker in one of these has a run started and not finished. */
const UNDER_WAY = new Set(['starting', 'running', 'stopping']);

/**
 * A barrier, not a timestamp: settle what is pending and snapshot now, then wait until each worker
 * runs (and is ready) on code that includes that snapshot — or, for a task, until a run on that code
 * has finished. Clocks and mtimes are never compared.
 */
export async function waitFresh(bus: Bus, slots: Slot[], timeoutMs: number, deps?: (s: Slot) => DepCheck | undefined): Promise<WaitFreshResult> {
  const targets = await Promise.all(slots.map(async (s) => ({ slot: s, snap: await s.tree.barrier() })));
  const tasks: WaitFreshResult['tasks'] = [];

  const pending = (): string[] => {
    const waiting: string[] = [];
    tasks.length = 0;
    for (const { slot, snap } of targets) {
      const w = slot.worker;
      const st = w.status();
      const name = w.spec.name;
      if (st.runsAsTask) {
        // A task's result is about what it depends on too: only a run against their current code counts.
        const now = deps?.(slot);
        if (now && !now.ok) {
          waiting.push(`${name}: ${now.waiting.join(', ')} ready`);
          continue;
        }
        const current = (r: { deps?: Readonly<Record<string, string>> }): boolean => !now || Object.entries(now.codes).every(([k, v]) => r.deps?.[k] === v);
        const run = [...st.tasks].reverse().find((r) => r.result !== 'cancelled' && covers(r.snapshot, snap) && current(r));
        // An earlier run on the same content answers only while no later run is under way or due: a
        // run started since, or about to start because the last start was on other code (the code
        // went back to this), is the one asked about, and its result may differ (a flaky test,
        // state outside the tree).
        const later =
          run !== undefined &&
          ((run.generation < st.generation && UNDER_WAY.has(st.state)) || (st.spawnSnapshot !== null && !covers(st.spawnSnapshot, snap)));
        if (run && !later) tasks.push({ worker: name, result: run.result, code: run.code });
        else if (later) waiting.push(`${name}: the next run on code ${snap.codeId}`);
        else waiting.push(`${name}: a finished run on code ${snap.codeId}`);
      } else if (!(st.state === 'running' && covers(st.spawnSnapshot, snap))) {
        waiting.push(`${name}: running on code ${snap.codeId} (now ${st.state}${st.codeId ? ` on ${st.codeId}` : ''})`);
      } else if (!st.ready) {
        waiting.push(`${name}: ready`);
      }
    }
    return waiting;
  };

  let waiting = pending();
  if (waiting.length === 0) return { ok: true, tasks: [...tasks], waiting };
  return new Promise((resolve) => {
    const finish = (ok: boolean): void => {
      off();
      clearTimeout(timer);
      resolve({ ok, tasks: [...tasks], waiting: ok ? [] : waiting });
    };
    const off = bus.on(() => {
      // Views run in the same dispatch; look once the worker has applied the event.
      queueMicrotask(() => {
        waiting = pending();
        if (waiting.length === 0) finish(true);
      });
    });
    // A pending wait must not keep a supervisor that is shutting down alive.
    const timer = setTimeout(() => finish(false), timeoutMs).unref();
  });
}

/** True once no hold is active, false if `timeoutMs` passes first. */
export function holdsReleased(bus: Bus, holds: () => number, timeoutMs: number): Promise<boolean> {
  if (holds() === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      off();
      clearTimeout(timer);
      resolve(ok);
    };
    const off = bus.on((e) => {
      if (e.type === 'release' && e.holds === 0) done(true);
    });
    // A wait must never keep a supervisor that is shutting down alive.
    const timer = setTimeout(() => done(false), timeoutMs).unref();
  });
}
