import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { clearCaches } from '../caches/clear.js';
import type { PresetName } from '../caches/presets.js';
import { pythonEnv } from '../caches/pycache-prefix.js';
import type { SessionPrefix } from '../caches/pycache-session.js';
import { errorMessage } from '../core/errors.js';
import { within } from '../core/within.js';
import type { RunOutcome } from './runner.js';
import { parseJunit, type CaseResult } from './junit.js';
import type { JunitPlan } from './junit-plan.js';
import { LineTail } from '../history/recorder.js';
import { outputEnded, readLines } from '../process/lines.js';
import { spawnChild, type Child } from '../process/spawn.js';
import { stopTree } from '../process/stop-tree.js';

export interface FlakeRunSetup {
  command: string[] | string;
  cwd: string;
  /** Null: clear nothing. */
  clear: { roots: string[]; presets: PresetName[]; globs: string[] } | null;
  /** Python runs: the bytecode directory the runs share, readied before each one. */
  pycache?: SessionPrefix;
  /** Ctrl-C: stop every running tree; runs not yet spawned are not started. */
  signal: AbortSignal;
  graceMs: number;
  onWarning(message: string): void;
  /** Read each run's JUnit report (and let the plan adjust the command for it). */
  junit?: JunitPlan;
}

/** A run that really started, numbered from 1 as the report and the child's env number it. */
export interface StartedRun {
  run: number;
  startedAt: Date;
  outcome: RunOutcome;
  /** Ended by Ctrl-C: runFlake does not count it, history records it as cancelled. */
  cancelled: boolean;
}

/** After the root exits, how long a pipe held open by a straggler may keep the last lines coming. */
const PIPE_GRACE_MS = 500;

/** Runs one at a time: two clears walking and deleting the same tree would report each other's errors. */
function mutex(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return (fn) => {
    const run = tail.then(fn);
    tail = run.catch(() => undefined);
    return run;
  };
}

export function createFlakeRunner(setup: FlakeRunSetup) {
  const exclusive = mutex();
  const running = new Map<number, Child>();
  const stopping = new Map<number, Promise<unknown>>();
  const started: StartedRun[] = [];

  const stop = (i: number, child: Child): void => {
    if (!stopping.has(i)) stopping.set(i, stopTree(child.id, { graceMs: setup.graceMs }).catch(() => undefined));
  };
  setup.signal.addEventListener('abort', () => {
    for (const [i, child] of running) stop(i, child);
  });

  const clearBeforeRun = async (): Promise<void> => {
    const c = setup.clear;
    if (!c || (c.presets.length === 0 && c.globs.length === 0)) return;
    try {
      const res = await exclusive(() => clearCaches(c));
      for (const e of res.errors) setup.onWarning(`cache clearing: ${e}`);
    } catch (err) {
      setup.onWarning(`cache clearing: ${errorMessage(err)}`);
    }
  };

  const capture = async (i: number, child: Child): Promise<{ rec: Awaited<Child['exited']>; output: string }> => {
    const tail = new LineTail();
    const streams = [child.stdout, child.stderr].filter((s): s is Readable => s !== undefined);
    for (const s of streams) readLines(s, (line) => tail.push(line));
    const drained = outputEnded(streams);
    const rec = await child.exited;
    running.delete(i);
    // Whatever the run left in its group would hold the pipes and outlive the session.
    if (!stopping.has(i) && groupAlive(child.pid)) stop(i, child);
    await stopping.get(i);
    await within(drained, PIPE_GRACE_MS);
    for (const s of streams) s.destroy();
    return { rec, output: tail.text() };
  };

  const runOnce = async (i: number): Promise<RunOutcome> => {
    const run = i + 1;
    await clearBeforeRun();
    // Aborted while waiting to start: nothing ran, runFlake will not count it.
    if (setup.signal.aborted) return { exitCode: null, signal: null, durationMs: 0, output: '' };
    const env: Record<string, string> = { DEVSUP_FLAKE_RUN: String(run), FLAKE_RUN: String(run) };
    const planned = setup.junit?.commandFor(run) ?? { command: setup.command, env: {} };
    Object.assign(env, planned.env);
    const reportPath = setup.junit?.pathFor(run);
    // A report left by an earlier run (or session) must not be read as this run's.
    if (reportPath) await rm(reportPath, { force: true }).catch(() => undefined);
    const prefix = await setup.pycache?.forRun();
    try {
      if (prefix) Object.assign(env, pythonEnv(prefix.dir));
      const startedAt = new Date();
      const child = await spawnChild({ command: planned.command, cwd: setup.cwd, env, stdin: 'ignore', output: 'pipe' });
      running.set(i, child);
      if (setup.signal.aborted) stop(i, child);
      const { rec, output } = await capture(i, child);
      const outcome: RunOutcome = { exitCode: rec.code, signal: rec.signal, durationMs: rec.durationMs, output };
      // A run stopped part way wrote no report, or half of one; it is not counted anyway.
      if (reportPath && !setup.signal.aborted) outcome.tests = await readReport(reportPath, setup.onWarning);
      started.push({ run, startedAt, outcome, cancelled: setup.signal.aborted });
      return outcome;
    } finally {
      // The run's tree is gone (capture waited for it): it compiles nothing more.
      prefix?.release();
    }
  };

  return {
    runOnce,
    /** Runs that started, in run order. */
    started: (): StartedRun[] => [...started].sort((a, b) => a.run - b.run),
  };
}

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The run's test cases, or null when it left no readable report (said once per kind of problem). */
async function readReport(path: string, warn: (m: string) => void): Promise<CaseResult[] | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    // Fixed texts: the warning sink says each once, not once per run.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') warn('some runs wrote no JUnit report; their failures have no test name');
    else warn(`cannot read a JUnit report: ${errorMessage(err).replace(path, '<report>')}`);
    return null;
  }
  try {
    return parseJunit(text);
  } catch (err) {
    warn('some runs left a JUnit report that is not valid XML (cut short?); their failures have no test name');
    return null;
  }
}
