import { formatRate } from '../history/stats.js';
import { failuresToNotFixed, passesPerFailure, runsToFixed, type SequentialDesign, type Verdict } from './sequential.js';
import type { TestsSummary } from './tests.js';

function pct(confidence: number): string {
  return `${Number((confidence * 100).toFixed(2))}%`;
}

/** What the session may take, printed before it starts. */
export function planLines(d: SequentialDesign, cap: number): string[] {
  const head = `is it fixed? deciding whether the failure rate is below ${formatRate(d.baseline)} with ${pct(d.confidence)} confidence`;
  const fixed = `"fixed" after ${runsToFixed(d)} runs if none fails`;
  if (d.fixedRate === 0) {
    return [head, `${fixed}; "not fixed" at the first failure; at most ${cap} runs`];
  }
  const cost = Math.round(passesPerFailure(d));
  const notFixed = failuresToNotFixed(d);
  return [
    head,
    `${fixed} (each failure adds about ${cost}); "not fixed" after ${notFixed} failures at the soonest; at most ${cap} runs`,
  ];
}

/** The first line of the report: the answer. */
export function verdictLine(v: Verdict | 'undecided', d: SequentialDesign, runs: number, failed: number, cap: number): string {
  const base = formatRate(d.baseline);
  const conf = pct(d.confidence);
  if (v === 'fixed') return `fixed: failure rate below the baseline ${base} (${conf} confidence); ${failed} of ${runs} runs failed`;
  if (v === 'not-fixed') {
    return `not fixed: ${failed} failures in ${runs} runs, rate compatible with the baseline ${base} (above ${formatRate(d.fixedRate)}, ${conf} confidence)`;
  }
  const why = runs >= cap ? `at the cap of ${cap} runs` : `after ${runs} runs (interrupted)`;
  return `undecided ${why}: ${failed} failed, which tells neither "below ${base}" nor "above ${formatRate(d.fixedRate)}" at ${conf}; run again with a larger -n`;
}

/** Saved output of a run, shown as a path. */
export type LogOf = (index: number) => string | undefined;

/** Per test case: failures out of runs, rate and interval, first message, saved output. */
export function testsLines(t: TestsSummary, logOf: LogOf): string[] {
  if (t.reported === 0) return ['tests: no run left a readable JUnit report'];
  const lines = [`tests: ${t.cases} cases in the JUnit reports of ${t.reported} runs`];
  if (t.failing.length === 0) lines.push('  no test case failed');
  for (const s of t.failing) {
    const r = s.rate;
    lines.push(`  ✘ ${s.id}: failed ${s.failed}/${s.runs}, ${formatRate(r.rate)} (95% CI ${formatRate(r.low)}–${formatRate(r.high)})`);
    if (s.message) lines.push(`      ${s.message}`);
    const logs = s.failingRuns.map((i) => ({ run: i + 1, path: logOf(i) })).filter((l) => l.path !== undefined);
    if (logs.length > 0) lines.push(`      output: ${logs.map((l) => `run ${l.run} ${l.path}`).join(', ')}`);
  }
  if (t.unexplained.length > 0) {
    const runs = t.unexplained.slice(0, 5).map((i) => i + 1).join(', ');
    const more = t.unexplained.length > 5 ? ', …' : '';
    lines.push(`  ${t.unexplained.length} failing runs had no failing test case in a report (crash, setup error, no report): runs ${runs}${more}`);
  }
  return lines;
}
