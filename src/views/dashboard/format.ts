import type { EventOf, TaskResult } from '../../core/events.js';
import type { WorkerView } from '../../supervisor/api.js';
import { formatBytes, formatDuration, formatFiles, plural } from '../format.js';

export { formatDuration };

/** How a word is coloured; the list maps tones to colours so this file stays free of escapes. */
export type Tone = 'ok' | 'warn' | 'bad' | 'busy' | 'dim' | 'plain';

export interface Word {
  text: string;
  tone: Tone;
}

/**
 * Elapsed time for columns that tick every second: whole seconds (45s), then the one duration
 * format (3m04s, 2h05m, 3d04h), so a fresh process does not flicker through tenths.
 */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  return s < 60 ? `${s}s` : formatDuration(s * 1000);
}

/** Resident memory in at most five columns: 812K, 48M, 1.2G. */
export function formatMem(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '-';
  const units = ['B', 'K', 'M', 'G', 'T'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 && i > 0 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}

export function formatCpu(pct: number | null | undefined): string {
  if (pct === null || pct === undefined) return '-';
  return pct < 10 ? `${pct.toFixed(1)}%` : `${Math.round(pct)}%`;
}

export function exitText(exit: WorkerView['lastExit']): string {
  if (!exit) return '?';
  return exit.signal ?? `exit ${exit.code ?? '?'}`;
}

const TASK_WORDS: Record<TaskResult, Word> = {
  passed: { text: 'passed', tone: 'ok' },
  failed: { text: 'failed', tone: 'bad' },
  cancelled: { text: 'cancelled', tone: 'warn' },
};

/**
 * The lifecycle word of a worker. `restarting` says the dashboard saw a restart begin (a key
 * press or a stale event that restarts), which the snapshot alone cannot tell from a plain stop.
 */
export function stateWord(w: WorkerView, opts: { restarting?: boolean } = {}): Word {
  const isTask = w.kind === 'task';
  switch (w.state) {
    case 'starting':
      return { text: opts.restarting || w.restarts > 0 ? 'restarting' : 'starting', tone: 'busy' };
    case 'running':
    case 'ready':
      if (isTask) return { text: 'running', tone: 'busy' };
      return w.ready || w.state === 'ready' ? { text: 'ready', tone: 'ok' } : { text: 'running', tone: 'busy' };
    case 'stopping':
      return { text: opts.restarting ? 'restarting' : 'stopping', tone: 'busy' };
    case 'idle':
      return { text: 'stopped', tone: 'dim' };
    case 'start-failed':
      return { text: 'start failed', tone: 'bad' };
    case 'backoff':
      return { text: `crashed (${exitText(w.lastExit)}), retrying`, tone: 'bad' };
    default:
      break;
  }
  if (isTask && w.lastTask) {
    const word = TASK_WORDS[w.lastTask.result];
    return { text: `${word.text} ${formatDuration(w.lastTask.durationMs)}`, tone: word.tone };
  }
  if (w.state === 'exited' || (w.state === 'done' && w.lastExit)) {
    const e = w.lastExit;
    if (e && e.signal === null && e.code === 0) return { text: 'exited (0)', tone: 'dim' };
    return { text: `crashed (${exitText(e)})`, tone: 'bad' };
  }
  return { text: w.state, tone: 'plain' };
}

/** fresh, checking, or STALE with how many files and for how long; empty when nothing runs. */
export function verdictWord(w: WorkerView, now: number): Word {
  if (w.verdict === 'fresh') return { text: 'fresh', tone: 'ok' };
  if (w.verdict === 'none') return { text: '', tone: 'dim' };
  if (w.verdict === 'checking') return { text: 'checking', tone: 'dim' };
  const n = w.staleFiles.length;
  const since = w.staleSince ? Date.parse(w.staleSince) : NaN;
  const age = Number.isFinite(since) ? ` ${formatAge(now - since)}` : '';
  return { text: `STALE ${plural(n, 'file')}${age}`, tone: 'warn' };
}

const MARKS: Record<TaskResult, string> = { passed: '✔', failed: '✘', cancelled: '⊘' };

/** The newest `max` task results as marks, oldest first. */
export function taskMarks(history: WorkerView['taskHistory'], max: number): string {
  if (max <= 0) return '';
  return history
    .slice(-max)
    .map((h) => MARKS[h.result])
    .join('');
}

/** The short name of a test case: its last part (`test_a.TestX::test_bad` → `test_bad`, `suite > case` → `case`). */
export function shortTestName(id: string): string {
  const parts = id.split(/ > |::/);
  return parts[parts.length - 1] || id;
}

/**
 * A task's failing tests on its current code, for its row: `test_token 3/10, test_cookie 1/10`.
 * Empty when no report was read; `none failed (10)` when reports were read and all passed.
 */
export function failingTestsText(t: EventOf<'task-tests'> | undefined): string {
  if (!t) return '';
  if (t.failing.length === 0) return `no test failed (${t.runs})`;
  return t.failing.map((f) => `${shortTestName(f.id)} ${f.failed}/${f.runs}`).join(', ');
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * Durations of the newest `max` finished runs (cancelled ones are not timings of the task) as a
 * sparkline scaled between the fastest and the slowest shown, so a run that suddenly takes twice
 * as long stands out.
 */
export function durationSparkline(history: WorkerView['taskHistory'], max: number): string {
  if (max <= 0) return '';
  const ms = history.filter((h) => h.result !== 'cancelled').slice(-max).map((h) => h.durationMs);
  if (ms.length === 0) return '';
  const lo = Math.min(...ms);
  const span = Math.max(...ms) - lo;
  return ms.map((v) => BARS[span === 0 ? 0 : Math.round(((v - lo) / span) * (BARS.length - 1))]).join('');
}

export function uptime(w: WorkerView, now: number): string {
  if (w.pid === null || !w.startedAt) return '-';
  const t = Date.parse(w.startedAt);
  return Number.isFinite(t) ? formatAge(now - t) : '-';
}

/** The line put between two generations in a log, saying why the new one started. */
export function restartBanner(e: EventOf<'worker-started'>): string {
  const r = e.restart;
  const parts: string[] = [`↻ generation ${e.generation}`];
  if (r) {
    if (r.reason === 'change' && r.changes) {
      const files = [...r.changes.modified, ...r.changes.added, ...r.changes.removed];
      parts.push(`${plural(files.length, 'file')} changed: ${formatFiles(files)}`);
    } else if (r.reason === 'manual') parts.push('restart requested');
    else if (r.reason === 'crash') parts.push('after a crash');
    else if (r.reason === 'config') parts.push('config changed');
    else if (r.reason === 'caches') parts.push('caches found after the start');
    else parts.push('started');
    if (r.cleared) parts.push(`cleared ${plural(r.cleared.count, 'cache')} (${formatBytes(r.cleared.bytes)})`);
    if (r.stopMs !== undefined) parts.push(`old tree gone in ${formatDuration(r.stopMs)}`);
  }
  parts.push(`pid ${e.pid}`);
  return `── ${parts.join(' · ')} ──`;
}

/** For a backlog read from the log store, which has no restart explanations. */
export function generationBanner(generation: number): string {
  return `── ↻ generation ${generation} ──`;
}
