import { formatAge } from '../../stale/age.js';
import type { ProjectProcess, ScanResult } from '../../stale/scan.js';

/** Files named per stale process in the table; the JSON names more, and both give the full count. */
const SHOWN_FILES = 3;

export interface ProcessJson {
  pid: number;
  ppid: number;
  /** Opaque start value from the OS; with pid, the identity that survives pid reuse. */
  start: string;
  startedAt: string;
  ageMs: number;
  command: string;
  argv: string[];
  cwd: string | null;
  verdict: 'stale' | 'fresh';
  /** The newest source files modified after the start, at most MAX_NEWER (20). */
  newerFiles: { path: string; modifiedAt: string; afterStartMs: number }[];
  newerCount: number;
}

export function processJson(p: ProjectProcess): ProcessJson {
  return {
    pid: p.pid,
    ppid: p.ppid,
    start: p.start,
    startedAt: new Date(p.startMs).toISOString(),
    ageMs: Math.round(p.ageMs),
    command: p.command,
    argv: p.argv,
    cwd: p.cwd ?? null,
    verdict: p.verdict,
    newerFiles: p.newer.map((f) => ({
      path: f.rel,
      modifiedAt: new Date(Number(f.mtimeNs / 1_000_000n)).toISOString(),
      afterStartMs: Math.round(f.afterStartMs),
    })),
    newerCount: p.newerCount,
  };
}

/** `src/app.py modified 4m12s after start`, newest first, and how many more. */
export function newerLines(p: ProjectProcess, shown = SHOWN_FILES): string[] {
  const lines = p.newer.slice(0, shown).map((f) => `${f.rel} modified ${formatAge(f.afterStartMs)} after start`);
  if (p.newerCount > shown) lines.push(`(+${p.newerCount - shown} more)`);
  return lines;
}

export function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** The table of `devsup ps`: one row per process, the evidence under each stale one. */
export function processTable(scan: ScanResult): string[] {
  if (scan.processes.length === 0) return [`no processes of this project (${scan.root})`];
  const head = ['PID', 'PPID', 'STARTED', 'AGE', 'VERDICT', 'COMMAND'];
  const rows = scan.processes.map((p) => [
    String(p.pid),
    String(p.ppid),
    localTime(p.startMs),
    formatAge(p.ageMs),
    p.verdict === 'stale' ? 'STALE' : 'fresh',
    p.command,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const indent = ' '.repeat(widths[0]! + 2);
  const out = [line(head)];
  scan.processes.forEach((p, i) => {
    out.push(line(rows[i]!));
    for (const l of newerLines(p)) out.push(`${indent}${l}`);
  });
  const stale = scan.processes.filter((p) => p.verdict === 'stale').length;
  const n = scan.processes.length;
  out.push('', `${n} ${n === 1 ? 'process' : 'processes'} of ${scan.root}: ${stale === 0 ? 'none' : stale} stale`);
  return out;
}
