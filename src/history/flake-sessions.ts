import { readStateText } from '../state/files.js';
import { join } from 'node:path';
import { appendLine } from './store.js';

/** A test case's counts in one session (only cases that failed at least once are stored). */
export interface SessionTest {
  id: string;
  runs: number;
  failed: number;
}

/**
 * One flake session, or one round of a task's repeated runs, as a line in flake-sessions.jsonl:
 * what before-and-after comparisons and "baseline from history" read. The per-run records stay in
 * history.jsonl; this is their sum, with the code id the whole session ran on.
 */
export interface FlakeSession {
  v: 1;
  id: string;
  /** What was run: `flake <argv as JSON>` or `task <name>`; sessions compare only within one key. */
  key: string;
  /** For people: the command line or the task name. */
  label: string;
  codeId: string;
  startedAt: string;
  runs: number;
  failed: number;
  /** Runs that had a readable JUnit report; cases not listed in `tests` passed in them. */
  reported?: number;
  tests?: SessionTest[];
  /** Set when the session ran the sequential rule. */
  decision?: { baseline: number; fixedRate: number; confidence: number; verdict: 'fixed' | 'not-fixed' | 'undecided' };
}

export function sessionsPath(stateDir: string): string {
  return join(stateDir, 'flake-sessions.jsonl');
}

export function commandKey(command: string[] | string): string {
  return `flake ${JSON.stringify(command)}`;
}

export function taskKey(worker: string): string {
  return `task ${worker}`;
}

function isCount(x: unknown): x is number {
  return Number.isInteger(x) && (x as number) >= 0;
}

export function parseSession(line: string): FlakeSession | null {
  let x: unknown;
  try {
    x = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof x !== 'object' || x === null) return null;
  const s = x as Partial<FlakeSession>;
  if (s.v !== 1 || typeof s.key !== 'string' || typeof s.codeId !== 'string' || typeof s.startedAt !== 'string') return null;
  if (!isCount(s.runs) || !isCount(s.failed) || s.failed > s.runs) return null;
  if (s.tests !== undefined && !(Array.isArray(s.tests) && s.tests.every((t) => typeof t?.id === 'string' && isCount(t.runs) && isCount(t.failed)))) {
    return null;
  }
  return s as FlakeSession;
}

/** Appends under the same kind of lock the run history uses: several devsup processes may share it. */
export async function appendSession(stateDir: string, s: FlakeSession): Promise<void> {
  await appendLine(stateDir, sessionsPath(stateDir), JSON.stringify(s));
}

/** Sessions oldest first, optionally of one key; unreadable lines are skipped. */
export async function readSessions(stateDir: string, key?: string): Promise<FlakeSession[]> {
  // Link-free, as the appends are: a planted link is refused rather than read as other sessions.
  const text = await readStateText(sessionsPath(stateDir));
  if (text === undefined) return [];
  const out: FlakeSession[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const s = parseSession(line);
    if (s && (key === undefined || s.key === key)) out.push(s);
  }
  return out;
}

/** A code id's sessions summed. */
export interface CodeTotals {
  codeId: string;
  sessions: number;
  runs: number;
  failed: number;
  /** Runs with a JUnit report. */
  reported: number;
  tests: Map<string, { runs: number; failed: number }>;
  /** Newest session's start. */
  lastAt: string;
}

/**
 * Sessions summed per code id, ordered by each code's newest session (oldest code first). Only
 * failing cases are stored per session; a case missing from a session that had reports passed in
 * them, so its runs count those reports.
 */
export function totalsByCode(sessions: readonly FlakeSession[]): CodeTotals[] {
  const by = new Map<string, CodeTotals>();
  for (const s of sessions) {
    let t = by.get(s.codeId);
    if (!t) by.set(s.codeId, (t = { codeId: s.codeId, sessions: 0, runs: 0, failed: 0, reported: 0, tests: new Map(), lastAt: s.startedAt }));
    const reportedBefore = t.reported;
    t.sessions++;
    t.runs += s.runs;
    t.failed += s.failed;
    t.reported += s.reported ?? 0;
    if (s.startedAt > t.lastAt) t.lastAt = s.startedAt;
    const listed = new Set<string>();
    for (const c of s.tests ?? []) {
      listed.add(c.id);
      // First seen failing now: it passed in the earlier sessions' reports.
      const e = t.tests.get(c.id) ?? { runs: reportedBefore, failed: 0 };
      t.tests.set(c.id, { runs: e.runs + c.runs, failed: e.failed + c.failed });
    }
    // Earlier-seen cases that this session's reports show passing.
    for (const [id, e] of t.tests) if (!listed.has(id)) t.tests.set(id, { runs: e.runs + (s.reported ?? 0), failed: e.failed });
  }
  return [...by.values()].sort((a, b) => (a.lastAt < b.lastAt ? -1 : a.lastAt > b.lastAt ? 1 : 0));
}
