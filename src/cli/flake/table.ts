import { formatDuration } from '../../flake/report.js';
import type { RunRecord, RunResult } from '../../history/record.js';
import { cancelSentence } from '../../views/format.js';
import type { Styler } from '../../views/style.js';

const MARKS: Record<RunResult, string> = { passed: '✔', failed: '✘', cancelled: '⊘' };

/** "just now", "42s ago", "5m ago", "3h ago", "2d ago". */
export function formatAgo(thenMs: number, nowMs: number): string {
  const s = Math.floor((nowMs - thenMs) / 1000);
  // A record from a host whose clock runs ahead is not "in the future" in any useful sense.
  if (s < 1) return 'just now';
  if (s < 60) return `${s}s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.floor(h / 24)}d ago`;
}

function exitText(r: RunRecord): string {
  if (r.signal !== null) return r.signal;
  return r.exitCode === null ? '-' : String(r.exitCode);
}

/** The recorder also stores the count the supervisor reported, which may exceed the list it had. */
function changedCount(r: RunRecord): number {
  const count = (r as RunRecord & { changedCount?: unknown }).changedCount;
  return typeof count === 'number' && Number.isInteger(count) && count >= 0 ? count : r.changedFiles.length;
}

/**
 * "  passed against api 9f2c41d0ab": what a task's result was about besides its own code; for a
 * cancelled run, what stopped it ("  cancelled: app.py changed while it ran").
 */
function againstText(r: RunRecord): string {
  if (r.result === 'cancelled' && r.cancelledBy) return `  cancelled: ${cancelSentence(r.cancelledBy)}`;
  const deps = r.deps ? Object.entries(r.deps) : [];
  if (deps.length === 0) return '';
  return `  ${r.result} against ${deps.map(([name, code]) => `${name} ${code}`).join(', ')}`;
}

export interface TableOptions {
  now: number;
  style: Styler;
  /** How to show a log path (e.g. relative to the working directory). */
  showPath(path: string): string;
}

/**
 * One line per run, newest first as given, columns padded so code ids line up under each other:
 * which code passed and which failed is what the table is read for.
 */
export function historyTable(records: readonly RunRecord[], opts: TableOptions): string[] {
  const header = ['', 'WORKER', 'RUN', 'CODE', 'STARTED', 'DURATION', 'EXIT', 'FILES', 'LOG'];
  const rows = records.map((r) => [
    MARKS[r.result],
    r.worker,
    `#${r.run ?? r.generation}`,
    r.codeId === '' ? '-' : r.codeId,
    formatAgo(Date.parse(r.startedAt), opts.now),
    formatDuration(r.durationMs),
    exitText(r),
    String(changedCount(r)),
    r.log === undefined ? '-' : opts.showPath(r.log),
  ]);
  const against = records.map((r) => againstText(r));
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const paint = (r: RunRecord, text: string): string =>
    r.result === 'passed' ? opts.style.green(text) : r.result === 'failed' ? opts.style.red(text) : opts.style.yellow(text);
  return [
    opts.style.dim(line(header)),
    ...rows.map((row, i) => {
      const text = line(row);
      // Only the mark is coloured, so padding computed on plain text stays right.
      const mark = row[0]!;
      return paint(records[i]!, mark) + text.slice(mark.length) + against[i]!;
    }),
  ];
}
