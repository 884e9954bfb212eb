import type { Writable } from 'node:stream';
import type { FlakeProgress } from './runner.js';

export interface ProgressOptions {
  out: Writable;
  /** Redraw one line in place; otherwise print a plain line per ~10% of progress. */
  isTTY: boolean;
  total: number;
  /** Terminal width: a line that wraps can no longer be redrawn with \r alone. */
  columns?: number;
  barWidth?: number;
}

export interface ProgressRenderer {
  update(p: FlakeProgress): void;
  /** Ends the TTY line, or prints the last state if a plain line has not shown it yet. */
  finish(): void;
}

/** Whole seconds, rounded up so the last second does not read "ETA 0s". */
export function formatEta(ms: number): string {
  const s = Math.ceil(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** `[#####.....] 23/50 runs, 2 failed, ETA 12s` */
export function progressLine(p: FlakeProgress, total: number, barWidth = 10): string {
  let filled = Math.round((p.done / total) * barWidth);
  // A full bar while runs remain would claim completion.
  if (p.done < total) filled = Math.min(filled, barWidth - 1);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(barWidth - filled)}]`;
  const eta = p.etaMs === null || p.done >= total ? '' : `, ETA ${formatEta(p.etaMs)}`;
  return `${bar} ${p.done}/${total} runs, ${p.failed} failed${eta}`;
}

export function createProgress(opts: ProgressOptions): ProgressRenderer {
  const { out, total } = opts;
  let drawn: string | null = null;
  let lastPrinted: string | null = null;
  let printedTenth = 0;
  let latest: FlakeProgress | null = null;

  const fit = (line: string): string =>
    opts.columns !== undefined && line.length >= opts.columns ? line.slice(0, Math.max(0, opts.columns - 1)) : line;

  return {
    update(p) {
      latest = p;
      const line = progressLine(p, total, opts.barWidth);
      if (opts.isTTY) {
        if (line === drawn) return;
        // \x1b[K clears what a longer previous line left at the end.
        out.write(`\r${fit(line)}\x1b[K`);
        drawn = line;
        return;
      }
      const tenth = Math.floor((p.done * 10) / total);
      if (tenth <= printedTenth) return;
      printedTenth = tenth;
      out.write(`${line}\n`);
      lastPrinted = line;
    },
    finish() {
      if (opts.isTTY) {
        if (drawn !== null) out.write('\n');
        drawn = null;
        return;
      }
      if (latest === null || latest.done === 0) return;
      const line = progressLine(latest, total, opts.barWidth);
      if (line !== lastPrinted) out.write(`${line}\n`);
      lastPrinted = line;
    },
  };
}
