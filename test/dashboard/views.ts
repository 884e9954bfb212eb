import type { WorkerView } from '../../src/supervisor/api.js';

/** A worker view with plausible defaults, for formatting tests. */
export function workerView(over: Partial<WorkerView> = {}): WorkerView {
  return {
    name: 'api',
    kind: 'service',
    state: 'running',
    generation: 1,
    pid: 4242,
    startedAt: new Date(0).toISOString(),
    codeId: 'c1',
    verdict: 'fresh',
    staleFiles: [],
    staleSince: null,
    ready: false,
    restarts: 0,
    lastExit: null,
    lastTask: null,
    taskHistory: [],
    message: null,
    listening: { tcp: [], unix: [] },
    ...over,
  };
}
