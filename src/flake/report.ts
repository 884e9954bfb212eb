import { formatDuration } from '../core/duration.js';
import { formatRate, wilson, zeroFailureUpperBound } from '../history/stats.js';
import type { FirstFailure, FlakeReport } from './runner.js';

const OUTPUT_TAIL_LINES = 5;

export { formatDuration } from '../core/duration.js';

/** The headline: what was seen and what it says about the true failure rate. */
export function rateSentence(r: FlakeReport): string {
  return failureSentence(r.failed, r.runs);
}

/** `0 of 50 failed: failure rate below 5.8% with 95% confidence`, or the Wilson interval when some failed. */
export function failureSentence(failed: number, runs: number): string {
  if (runs === 0) return 'no run finished: nothing to measure';
  const head = `${failed} of ${runs} failed`;
  if (failed === 0) return `${head}: failure rate below ${formatRate(zeroFailureUpperBound(runs))} with 95% confidence`;
  const { rate, low, high } = wilson(failed, runs);
  return `${head}: failure rate ${formatRate(rate)} (95% CI ${formatRate(low)}–${formatRate(high)})`;
}

function howItEnded(f: FirstFailure): string {
  if (f.signal !== null) return `killed by ${f.signal}`;
  if (f.exitCode === null) return 'did not start';
  return `exit code ${f.exitCode}`;
}

function outputTail(output: string): string[] {
  const lines = output.split(/\r?\n/).filter((l) => l.trim() !== '');
  return lines.slice(-OUTPUT_TAIL_LINES).map((l) => `    | ${l}`);
}

/**
 * Human-readable lines, no trailing newlines. Runs are numbered from 1 here ("run 4" is index 3),
 * as people count them.
 */
export function formatFlakeReport(r: FlakeReport): string[] {
  const lines = [rateSentence(r)];
  if (r.stopped === 'first-failure') {
    // Stopping at a failure is a stopping rule that inflates the estimate; say so.
    lines.push(`stopped at the first failure after ${r.runs} of ${r.requested} runs (the rate is biased high)`);
  } else if (r.stopped === 'aborted') {
    const left = r.discarded > 0 ? `; ${r.discarded} cut short and not counted` : '';
    lines.push(`aborted after ${r.runs} of ${r.requested} runs${left}`);
  }
  if (r.runs > 0) lines.push(`run time: median ${formatDuration(r.medianMs)}, p95 ${formatDuration(r.p95Ms)}`);
  if (r.firstFailures.length > 0) {
    const more = r.failed - r.firstFailures.length;
    lines.push(more > 0 ? `first ${r.firstFailures.length} failures (${more} more not shown):` : 'failures:');
    for (const f of r.firstFailures) {
      lines.push(`  run ${f.index + 1}: ${howItEnded(f)}`, ...outputTail(f.output));
    }
  }
  return lines;
}
