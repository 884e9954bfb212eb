import type { CodeTotals } from '../history/flake-sessions.js';
import { fisherExact, formatRate, wilson } from '../history/stats.js';

export interface Counts {
  codeId: string;
  runs: number;
  failed: number;
}

/** "p = 0.015", "p < 0.001": two significant digits are all a p-value can honestly carry. */
export function formatP(p: number): string {
  if (p < 0.001) return 'p < 0.001';
  if (p >= 0.995) return 'p = 1';
  return `p = ${Number(p.toPrecision(2))}`;
}

export type Change = 'fixed' | 'fewer failures' | 'more failures' | 'no significant difference';

/** Whether the newer code fails significantly less (or more) often, by Fisher's exact test. */
export function judge(older: Counts, newer: Counts, alpha: number): { change: Change; p: number } {
  const p = fisherExact(older.failed, older.runs, newer.failed, newer.runs);
  if (p >= alpha) return { change: 'no significant difference', p };
  const lower = newer.failed / newer.runs < older.failed / older.runs;
  if (!lower) return { change: 'more failures', p };
  return { change: newer.failed === 0 ? 'fixed' : 'fewer failures', p };
}

/** `failed 3/40 on a1b2c3d4e5, 0/120 on c3d4e5f6a7: fixed, p = 0.015` */
export function compareLine(older: Counts, newer: Counts, alpha = 0.05): string {
  const { change, p } = judge(older, newer, alpha);
  const more = change === 'no significant difference' ? ' (more runs may tell)' : '';
  return `failed ${older.failed}/${older.runs} on ${older.codeId}, ${newer.failed}/${newer.runs} on ${newer.codeId}: ${change}, ${formatP(p)}${more}`;
}

function rateCell(failed: number, runs: number): string {
  if (runs === 0) return '-';
  const w = wilson(failed, runs);
  return `${formatRate(w.rate)} (${formatRate(w.low)}–${formatRate(w.high)})`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
}

/**
 * The before-and-after report of one command: a row per code id (oldest first), the verdict on
 * the two newest codes, then the same verdict per test case that failed on either.
 */
export function formatCompare(label: string, totals: readonly CodeTotals[], alpha = 0.05): string[] {
  const lines = [`${label}:`];
  lines.push(
    ...table([
      ['CODE', 'SESSIONS', 'RUNS', 'FAILED', 'RATE (95% CI)'],
      ...totals.map((t) => [t.codeId || '-', String(t.sessions), String(t.runs), String(t.failed), rateCell(t.failed, t.runs)]),
    ]).map((l) => `  ${l}`),
  );
  if (totals.length < 2) {
    lines.push('only one code id measured: fix the code, then run the same `devsup flake` again to compare');
    return lines;
  }
  const older = totals[totals.length - 2]!;
  const newer = totals[totals.length - 1]!;
  if (older.runs === 0 || newer.runs === 0) return lines;
  lines.push(compareLine(older, newer, alpha));
  const ids = new Set([...older.tests.keys(), ...newer.tests.keys()]);
  const perTest: string[] = [];
  for (const id of [...ids].sort()) {
    const a = older.tests.get(id) ?? { runs: older.reported, failed: 0 };
    const b = newer.tests.get(id) ?? { runs: newer.reported, failed: 0 };
    if (a.runs === 0 || b.runs === 0) continue;
    perTest.push(`  ${id}: ${compareLine({ codeId: older.codeId, ...a }, { codeId: newer.codeId, ...b }, alpha)}`);
  }
  if (perTest.length > 0) lines.push('per test:', ...perTest);
  return lines;
}
