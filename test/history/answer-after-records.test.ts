import { describe, expect, it } from 'vitest';
import { answerAfterRecords } from '../../src/history/recorder.js';
import type { SupervisorApi, WaitFreshResult } from '../../src/supervisor/api.js';

/** Stands for the supervisor: methods that need their own `this`, as a class's do. */
class FakeSupervisor {
  private readonly names = ['check'];
  answer: WaitFreshResult = { ok: true, tasks: [{ worker: 'check', result: 'passed', code: 0 }], waiting: [] };
  snapshot() {
    return { workers: this.names.map((name) => ({ name })) };
  }
  waitFresh(): Promise<WaitFreshResult> {
    return Promise.resolve(this.answer);
  }
}

function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('answerAfterRecords', () => {
  it('holds an answer about a task until the records are written', async () => {
    const sup = new FakeSupervisor();
    const written = gate();
    const api = answerAfterRecords(sup as unknown as SupervisorApi, () => written.promise);
    let answered = false;
    const res = api.waitFresh(['check'], 1000).then((r) => ((answered = true), r));
    // Several turns of the event loop: the answer must still be held.
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(answered).toBe(false);
    written.open();
    expect(await res).toEqual(sup.answer);
  });

  it('does not wait when the answer is about services only, and serves the rest of the api as it is', async () => {
    const sup = new FakeSupervisor();
    sup.answer = { ok: true, tasks: [], waiting: [] };
    const never = new Promise<void>(() => undefined);
    const api = answerAfterRecords(sup as unknown as SupervisorApi, () => never);
    expect(await api.waitFresh([], 1000)).toEqual(sup.answer);
    const { snapshot } = api;
    expect(snapshot()).toEqual({ workers: [{ name: 'check' }] });
  });
});
