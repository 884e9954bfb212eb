import type { Worker } from '../worker/worker.js';
import type { WorkerView } from './api.js';

/** The plain-data picture of a worker that views and clients see. */
export function viewOf(worker: Worker, unwatched: string[] = []): WorkerView {
  const st = worker.status();
  const s = worker.current;
  const last = st.tasks.at(-1);
  return {
    name: st.name,
    kind: worker.kind,
    state: st.state === 'running' && st.ready ? 'ready' : st.state,
    generation: st.generation,
    pid: st.pid,
    startedAt: st.startedAt,
    codeId: st.codeId,
    verdict: st.pid === null ? 'none' : st.staleFiles.length > 0 ? 'stale' : st.checking ? 'checking' : 'fresh',
    staleFiles: st.staleFiles,
    staleSince: st.staleSince === null ? null : new Date(st.staleSince).toISOString(),
    ready: st.ready,
    restarts: st.restarts,
    lastExit: st.lastExit ? { code: st.lastExit.code, signal: st.lastExit.signal } : null,
    lastTask: last
      ? { result: last.result, durationMs: last.durationMs, code: last.code, generation: last.generation, codeId: last.snapshot.codeId !== '' ? last.snapshot.codeId : null }
      : null,
    taskHistory: st.tasks.slice(-20).map((t) => ({ result: t.result, durationMs: t.durationMs })),
    message: s.kind === 'start-failed' ? s.message : s.kind === 'starting' && s.waitingFor?.length ? `waiting for ${s.waitingFor.join(', ')} to be ready` : null,
    captured: worker.spec.output === 'pipe',
    listening: st.listening,
    ...(unwatched.length > 0 ? { unwatched } : {}),
  };
}
