import { describeListeners } from '../../core/events.js';
import type { SupervisorSnapshot, WorkerView } from '../../supervisor/api.js';
import { formatFiles, formatDuration, rejectedConfigLines } from '../../views/format.js';
import type { ControlOptions } from './commands.js';
import { withClient } from './connect.js';

/**
 * One word per worker, and whether it lets `status` exit 0. Only code known to be on disk passes;
 * a worker stopped on purpose does not fail, one starting or stopping has not proven anything yet.
 */
export function classify(w: WorkerView): { status: string; ok: boolean } {
  if (w.verdict === 'stale') return { status: 'STALE', ok: false };
  // A task (or a one-shot `run` command) still running on the current code has no result yet.
  if (w.verdict === 'fresh') return w.kind === 'task' ? { status: 'running', ok: false } : { status: 'fresh', ok: true };
  if (w.verdict === 'checking') return { status: 'checking', ok: false };
  if (w.kind === 'task' && w.lastTask && w.lastTask.result !== 'cancelled' && w.state !== 'starting' && w.state !== 'stopping') {
    return w.lastTask.result === 'passed' ? { status: 'passed', ok: true } : { status: 'failed', ok: false };
  }
  switch (w.state) {
    case 'idle':
    case 'done':
      return { status: 'stopped', ok: true };
    case 'exited':
      return { status: w.lastExit?.code === 0 ? 'exited' : 'crashed', ok: false };
    case 'backoff':
      return { status: 'crashed', ok: false };
    default:
      return { status: w.state, ok: false };
  }
}

export async function statusCommand(opts: ControlOptions & { json?: boolean }): Promise<number> {
  const snap = await withClient(opts.name, (c) => c.snapshot());
  const rows = snap.workers.map((w) => ({ w, ...classify(w) }));
  // What runs is not what the config file says: the answer to "is this my code?" is no.
  const ok = rows.every((r) => r.ok) && snap.configRejected === undefined;
  if (opts.json) {
    const { workers: _, ...rest } = snap;
    process.stdout.write(`${JSON.stringify({ ok, ...rest, workers: rows.map((r) => ({ ...r.w, status: r.status })) })}\n`);
  } else {
    process.stdout.write(render(snap, rows));
  }
  return ok ? 0 : 1;
}

function render(snap: SupervisorSnapshot, rows: { w: WorkerView; status: string }[]): string {
  const width = Math.max(...rows.map((r) => r.w.name.length), 4);
  const lines = [`devsup ${snap.version} · pid ${snap.pid} · ${snap.root}`];
  for (const { w, status } of rows) {
    const parts = [`  ${w.name.padEnd(width)}  ${status.padEnd(8)}`];
    if (w.pid !== null) parts.push(`pid ${w.pid}`);
    parts.push(`gen ${w.generation}`);
    if (w.startedAt) parts.push(`started ${w.startedAt}`);
    if (w.codeId) parts.push(`code ${w.codeId}`);
    if (w.pid !== null && (w.listening?.tcp.length ?? 0) + (w.listening?.unix.length ?? 0) > 0) parts.push(`listening ${describeListeners(w.listening)}`);
    if (w.pid !== null && !w.ready && w.kind === 'service') parts.push('not ready');
    if (w.lastTask && w.pid === null) {
      const on = w.lastTask.codeId ? ` on code ${w.lastTask.codeId}` : '';
      parts.push(`last run ${w.lastTask.result} in ${formatDuration(w.lastTask.durationMs)}${on}`);
    }
    if (w.pid === null && w.lastExit && w.kind === 'service') parts.push(`exit ${w.lastExit.code ?? w.lastExit.signal}`);
    if (w.message) parts.push(w.message);
    lines.push(parts.join('  '));
    if (w.verdict === 'stale') lines.push(`  ${' '.repeat(width)}  changed: ${formatFiles(w.staleFiles, 10)}`);
    // Edits to these no longer restart anything nor make the worker stale.
    if (w.unwatched?.length) lines.push(`  ${' '.repeat(width)}  not watched since a restart loop: ${formatFiles(w.unwatched, 10)}`);
  }
  if (snap.holds.length > 0) lines.push(`held by: ${snap.holds.join('; ')}`);
  if (snap.configRejected) {
    const [head, ...rest] = rejectedConfigLines(snap.configRejected, 5);
    lines.push(`config: ${head}`, ...rest);
  }
  return `${lines.join('\n')}\n`;
}
