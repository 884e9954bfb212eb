import { formatAge } from '../../stale/age.js';
import type { ChangedFile, Evidence, ProjectProcess, ScanResult, Verdict } from '../../stale/scan.js';
import type { SupervisedBy } from '../../stale/supervised.js';

/** Files named per process in the table; the JSON names more, and both give the full count. */
const SHOWN_FILES = 3;

export interface FileJson {
  path: string;
  /** The file's ctime: when it was last written (or touched). */
  changedAt: string;
  afterStartMs: number;
  content: ChangedFile['content'];
  /** content: the saved index proves the content changed after the start; ctime: only the ctime dates the change. */
  evidence: 'content' | 'ctime';
}

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
  role: ProjectProcess['role'];
  what: string;
  language: string | null;
  entries: string[];
  verdict: Verdict;
  evidence: Evidence | null;
  /** Files changed after the start that make it stale, newest first, at most MAX_NEWER (20). */
  changedFiles: FileJson[];
  changedCount: number;
  /** Files whose ctime moved after the start while the content stayed as devsup's index knew it. */
  touchedFiles: FileJson[];
  touchedCount: number;
  supervisedBy: SupervisedBy | null;
}

function fileJson(f: ChangedFile): FileJson {
  return {
    path: f.rel,
    changedAt: new Date(f.ctimeMs).toISOString(),
    afterStartMs: Math.round(f.afterStartMs),
    content: f.content,
    evidence: f.content === 'differs' && !f.savedBeforeStart ? 'content' : 'ctime',
  };
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
    role: p.role,
    what: p.label,
    language: p.language ?? null,
    entries: p.entries,
    verdict: p.verdict,
    evidence: p.evidence ?? null,
    changedFiles: p.changed.map(fileJson),
    changedCount: p.changedCount,
    touchedFiles: p.touched.map(fileJson),
    touchedCount: p.touchedCount,
    supervisedBy: p.supervisedBy ?? null,
  };
}

/** One phrase per changed file saying what the change is known by. */
function changedLine(f: ChangedFile): string {
  const when = `changed ${formatAge(f.afterStartMs)} after start`;
  if (f.content === 'differs' && !f.savedBeforeStart) return `${f.rel} ${when}, content differs from devsup's index of it at the start`;
  if (f.content === 'differs') return `${f.rel} ${when} (ctime); content differs from devsup's index, saved before the start`;
  return `${f.rel} ${when} (ctime only: no saved content from before the start, so a touch would look the same)`;
}

/** Why a process has its verdict, one line each: the evidence under its row. */
export function evidenceLines(p: ProjectProcess, shown = SHOWN_FILES): string[] {
  const by = p.supervisedBy;
  if (by) {
    const who = `devsup (pid ${by.supervisorPid})${by.worker === undefined ? '' : ` worker ${by.worker}`}`;
    if (by.verdict === 'stale') {
      const files = by.staleFiles.slice(0, shown).join(', ') + (by.staleFiles.length > shown ? ` (+${by.staleFiles.length - shown} more)` : '');
      return [`${who} says stale by content${files === '' ? '' : `: ${files}`}`];
    }
    return by.verdict === 'unknown' ? [`${who}: ${by.reason ?? 'no verdict'}`] : [];
  }
  const lines = p.changed.slice(0, shown).map(changedLine);
  if (p.changedCount > shown) lines.push(`(+${p.changedCount - shown} more)`);
  if (p.verdict === 'fresh' && p.touchedCount > 0) {
    const names = p.touched.slice(0, shown).map((f) => f.rel).join(', ') + (p.touchedCount > shown ? ` (+${p.touchedCount - shown} more)` : '');
    lines.push(`touched after start, content unchanged (devsup's index): ${names}`);
  }
  return lines;
}

export function localTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const VERDICT_TEXT: Record<Verdict, string> = { stale: 'STALE', fresh: 'fresh', unknown: '?', none: '-' };

function what(p: ProjectProcess): string {
  switch (p.role) {
    case 'runner':
      return p.label;
    case 'supervised':
      return p.supervisedBy?.worker === undefined ? 'under devsup' : `devsup worker ${p.supervisedBy.worker}`;
    case 'supervisor':
    case 'wrapper':
      // `vite (reloads itself)` says what it is already.
      return p.label.endsWith(')') ? p.label : `${p.label} (${p.role})`;
    case 'other':
      return `${p.label} (not judged)`;
  }
}

/** The table of `devsup ps`: one row per process, the evidence under each judged one. */
export function processTable(scan: ScanResult): string[] {
  if (scan.processes.length === 0) return [`no processes of this project (${scan.root})`];
  const head = ['PID', 'PPID', 'STARTED', 'AGE', 'VERDICT', 'BY', 'WHAT', 'COMMAND'];
  const rows = scan.processes.map((p) => [
    String(p.pid),
    String(p.ppid),
    localTime(p.startMs),
    formatAge(p.ageMs),
    VERDICT_TEXT[p.verdict],
    p.evidence ?? '-',
    what(p),
    p.command,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const indent = ' '.repeat(widths[0]! + 2);
  const out = [line(head)];
  scan.processes.forEach((p, i) => {
    out.push(line(rows[i]!));
    for (const l of evidenceLines(p)) out.push(`${indent}${l}`);
  });
  const stale = scan.processes.filter((p) => p.verdict === 'stale').length;
  const n = scan.processes.length;
  out.push('', `${n} ${n === 1 ? 'process' : 'processes'} of ${scan.root}: ${stale === 0 ? 'none' : stale} stale`);
  if (!scan.indexFound && scan.processes.some((p) => p.changed.some((f) => f.content === 'unknown'))) {
    out.push('no devsup file index here (.devsup/index/ is written by devsup run/up): changes are dated by ctime alone');
  }
  return out;
}
