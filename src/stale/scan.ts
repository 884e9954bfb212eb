import { statSync } from 'node:fs';
import { relative } from 'node:path';
import { shq } from '../doctor/shell.js';
import { clockTicks } from '../process/proc-start.js';
import { readProcTable, type ProcInfo } from '../process/table.js';
import { isUnderRoot, rootPaths, selectProjectProcesses } from './membership.js';
import { classify, type Classified, type Language, type Role } from './roles.js';
import { isReloadedChild } from './reloaders.js';
import { SavedContent } from './saved-content.js';
import { listSources, loadableBy, type SourceFile } from './sources.js';
import { judgeSupervised, supervisorOf, type AskSupervisors, type SupervisedBy } from './supervised.js';

/**
 * stale: it runs code that is no longer on disk; fresh: nothing it can have loaded changed since it
 * started; unknown: it is supervised and its supervisor could not say; none: not judged (a
 * supervisor, a wrapper, or a process running nothing devsup can tie to the project's sources).
 */
export type Verdict = 'stale' | 'fresh' | 'unknown' | 'none';

/**
 * What a verdict rests on. content: file contents compared with devsup's saved index from before the
 * start; ctime: file ctimes against the start, which every write moves (a touch too, so a ctime alone
 * cannot tell an edit from a touch); devsup: the verdict of the supervisor running it.
 */
export type Evidence = 'content' | 'ctime' | 'devsup';

export interface ChangedFile {
  path: string;
  /** Relative to the root when under it, else absolute (an entry script elsewhere). */
  rel: string;
  ctimeMs: number;
  /** How long after the process started the file's ctime is. */
  afterStartMs: number;
  /** differs: other content than at the start (index); same: touched, content unchanged; unknown: no index from before the start. */
  content: 'differs' | 'same' | 'unknown';
  /** The index was saved before the start: the content differs from it, but only the ctime dates the change. */
  savedBeforeStart?: boolean;
}

export interface ProjectProcess {
  pid: number;
  ppid: number;
  /** The OS's opaque start value: `{ pid, start }` is the ProcId that guards against pid reuse. */
  start: string;
  startMs: number;
  ageMs: number;
  argv: string[];
  /** The command line, quoted so it can be pasted into a shell. */
  command: string;
  cwd?: string;
  role: Role;
  label: string;
  language?: Language;
  /** The script or module it was started with, when devsup could name it. */
  entries: string[];
  verdict: Verdict;
  /** Undefined exactly when the verdict is none. */
  evidence?: Evidence;
  /** Files changed since the start, newest first (at most MAX_NEWER): non-empty when stale by its files. */
  changed: ChangedFile[];
  changedCount: number;
  /** Files whose ctime moved after the start while their content stayed as the index knew it. */
  touched: ChangedFile[];
  touchedCount: number;
  supervisedBy?: SupervisedBy;
}

/** Files kept per process: a scan of a huge tree must not hold every file once per process. */
export const MAX_NEWER = 20;

export interface ScanResult {
  root: string;
  scannedAtMs: number;
  /** Changes this close after a start are not counted; see startToleranceMs. */
  toleranceMs: number;
  sourceCount: number;
  /** Whether a saved index of devsup's was found to compare contents with. */
  indexFound: boolean;
  /** Oldest first. */
  processes: ProjectProcess[];
}

export interface ScanOptions {
  /** A process table read earlier; read now when absent. */
  table?: ProcInfo[];
  /** The process whose ancestors are left out; this one by default. */
  selfPid?: number;
  /** Whose processes are listed; this process's uid by default. */
  uid?: number;
  now?: () => number;
  /** Pids of devsup supervisors known from their lock files. */
  devsupPids?: ReadonlySet<number>;
  /** Asks running supervisors for their workers' verdicts; supervised processes are `unknown` without it. */
  askSupervisors?: AskSupervisors;
  /** Whether a process was started by a development server's reloader; read from its environment by default. */
  isReloadedChild?: (pid: number) => boolean;
}

/**
 * How far after a start a change must be to prove the process started before it.
 * On Linux the start is truncated to a clock tick (10 ms at USER_HZ 100) and turned into wall time
 * through /proc/uptime, itself in hundredths of a second; two ticks plus that covers both.
 * Elsewhere `ps` gives whole seconds, truncated, so anything within the second is inconclusive.
 * Erring this way calls a process fresh when an edit landed in the very instant it started; it
 * would most likely have read the edited file anyway, since interpreters read sources after startup.
 */
export function startToleranceMs(): number {
  return process.platform === 'linux' ? (2 * 1000) / clockTicks() + 10 : 1000;
}

export async function scanProject(root: string, opts: ScanOptions = {}): Promise<ScanResult> {
  const paths = rootPaths(root);
  const [table, sources] = await Promise.all([opts.table ?? readProcTable(), listSources(paths.given)]);
  const now = (opts.now ?? Date.now)();
  const toleranceMs = startToleranceMs();
  const ctx = { devsupPids: opts.devsupPids ?? new Set<number>(), inProject: (p: string) => isUnderRoot(p, paths) };
  const rows = selectProjectProcesses(table, paths, { selfPid: opts.selfPid ?? process.pid, uid: opts.uid ?? process.getuid?.() });
  const kinds = new Map(rows.map((r) => [r.pid, classify(r, ctx)]));
  markReloaders(rows, kinds, opts.isReloadedChild ?? isReloadedChild);

  const byPid = new Map(table.map((r) => [r.pid, r]));
  const supervisors = new Map(rows.flatMap((r) => {
    const sup = kinds.get(r.pid)!.role === 'runner' ? supervisorOf(r, byPid, ctx) : undefined;
    return sup ? [[r.pid, sup] as const] : [];
  }));
  const answers = await judgeSupervised([...supervisors.values()], opts.askSupervisors);

  const saved = SavedContent.find(paths.real);
  const judge = new FileJudge(sources, paths.given, toleranceMs, saved);
  const processes: ProjectProcess[] = [];
  for (const row of rows) {
    const kind = kinds.get(row.pid)!;
    const base = describe(row, kind, now);
    const sup = supervisors.get(row.pid);
    if (sup) {
      const by = answers(sup);
      processes.push({ ...base, role: 'supervised', verdict: by.verdict, evidence: 'devsup', supervisedBy: by });
    } else if (kind.role === 'runner' && kind.language !== undefined) {
      processes.push({ ...base, ...(await judge.judge(row, kind.language, kind.entries)) });
    } else processes.push(base);
  }
  processes.sort((a, b) => a.startMs - b.startMs || a.pid - b.pid);
  return { root: paths.given, scannedAtMs: now, toleranceMs, sourceCount: sources.length, indexFound: saved.available, processes };
}

function describe(row: ProcInfo, kind: Classified, now: number): ProjectProcess {
  const out: ProjectProcess = {
    pid: row.pid,
    ppid: row.ppid,
    start: row.start,
    startMs: row.startMs,
    ageMs: Math.max(0, now - row.startMs),
    argv: row.cmdline,
    command: displayCommand(row.cmdline),
    role: kind.role,
    label: kind.label,
    entries: kind.entries,
    verdict: 'none',
    changed: [],
    changedCount: 0,
    touched: [],
    touchedCount: 0,
  };
  if (kind.language !== undefined) out.language = kind.language;
  if (row.cwd !== undefined) out.cwd = row.cwd;
  return out;
}

/**
 * A development server's reloader (flask, django's runserver) runs the same command line as the
 * child it restarts on every change: the parent only watches, so it is a supervisor, not stale.
 */
function markReloaders(rows: readonly ProcInfo[], kinds: Map<number, Classified>, isReloaded: (pid: number) => boolean): void {
  const key = (r: ProcInfo) => r.cmdline.join('\0');
  const byPid = new Map(rows.map((r) => [r.pid, r]));
  for (const child of rows) {
    const parent = byPid.get(child.ppid);
    const kind = parent && kinds.get(parent.pid);
    if (parent && kind?.role === 'runner' && key(parent) === key(child) && isReloaded(child.pid)) {
      kinds.set(parent.pid, { role: 'supervisor', label: `${kind.label} reloader`, entries: [] });
    }
  }
}

type FileVerdict = Pick<ProjectProcess, 'verdict' | 'evidence' | 'changed' | 'changedCount' | 'touched' | 'touchedCount'>;

/** Judges runners against the files they can have loaded; contents are hashed once per scan. */
class FileJudge {
  constructor(
    private readonly sources: readonly SourceFile[],
    private readonly root: string,
    private readonly toleranceMs: number,
    private readonly saved: SavedContent,
  ) {}

  async judge(row: ProcInfo, language: Language, entries: readonly string[]): Promise<FileVerdict> {
    const limitMs = row.startMs + this.toleranceMs;
    const candidates: SourceFile[] = [];
    // Sources are sorted by ctime, newest first: the ones changed after the start are a prefix.
    for (const f of this.sources) {
      if (f.ctimeMs <= limitMs) break;
      if (loadableBy(language, f)) candidates.push(f);
    }
    for (const entry of entries) {
      // A script fed through a pipe (`bash <(...)`, /dev/fd/N) has no file to look at.
      if (entry.startsWith('/dev/') || entry.startsWith('/proc/') || candidates.some((c) => c.path === entry)) continue;
      const st = statOrUndefined(entry);
      if (st && st.ctimeMs > limitMs) candidates.push({ path: entry, rel: this.relOf(entry), ext: '', ctimeMs: st.ctimeMs });
    }
    const changed: ChangedFile[] = [];
    const touched: ChangedFile[] = [];
    let proven = false;
    for (const f of candidates) {
      const file: ChangedFile = { path: f.path, rel: f.rel, ctimeMs: f.ctimeMs, afterStartMs: f.ctimeMs - row.startMs, content: 'unknown' };
      const answer = await this.saved.compare(f.path, limitMs);
      if (answer.kind === 'same') {
        touched.push({ ...file, content: 'same' });
        continue;
      }
      if (answer.kind === 'differs') {
        file.content = 'differs';
        if (answer.proven) proven = true;
        else file.savedBeforeStart = true;
      }
      changed.push(file);
    }
    const byCtime = (a: ChangedFile, b: ChangedFile) => b.ctimeMs - a.ctimeMs;
    const stale = changed.length > 0;
    return {
      verdict: stale ? 'stale' : 'fresh',
      evidence: stale ? (proven ? 'content' : 'ctime') : touched.length > 0 ? 'content' : 'ctime',
      changed: changed.sort(byCtime).slice(0, MAX_NEWER),
      changedCount: changed.length,
      touched: touched.sort(byCtime).slice(0, MAX_NEWER),
      touchedCount: touched.length,
    };
  }

  private relOf(path: string): string {
    return isUnderRoot(path, rootPaths(this.root)) ? relative(this.root, path) : path;
  }
}

function statOrUndefined(path: string): { ctimeMs: number } | undefined {
  try {
    const st = statSync(path);
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
}

/** Programs that retitle themselves (npm does) leave their old argv slots empty; those are not arguments. */
function displayCommand(argv: readonly string[]): string {
  let end = argv.length;
  while (end > 1 && argv[end - 1] === '') end--;
  return argv.slice(0, end).map(shq).join(' ');
}
