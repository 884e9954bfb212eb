import { mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { isPythonCommand, parseClearSpec, presetsForCommand } from '../../caches/presets.js';
import { openSessionPrefix } from '../../caches/pycache-session.js';
import { DevsupError, errorMessage, UsageError } from '../../core/errors.js';
import { planJunit } from '../../flake/junit-plan.js';
import { createProgress } from '../../flake/progress.js';
import { formatFlakeReport } from '../../flake/report.js';
import { createFlakeRunner } from '../../flake/run.js';
import { keptLogs, recordHistory, sessionRecord } from '../../flake/session-files.js';
import { runFlake, type FlakeReport, type RunOutcome } from '../../flake/runner.js';
import { defaultCap, sequentialDesign, type SequentialDesign } from '../../flake/sequential.js';
import { TestTally } from '../../flake/tests.js';
import { planLines, testsLines, verdictLine } from '../../flake/verdict.js';
import { appendSession } from '../../history/flake-sessions.js';
import { formatRate } from '../../history/stats.js';
import { newRunId } from '../../history/logs.js';
import { formatFiles } from '../../views/format.js';
import { SpawnError } from '../../process/spawn.js';
import { stateSubdir } from '../../state/files.js';
import { baselineFromHistory, commandLabel } from './baseline.js';
import { watchCode } from './code-id.js';
import { stateDirFor } from './state.js';
import { onShutdownSignals } from '../signals.js';

export interface FlakeOptions {
  runs: number;
  /** False when -n was left at its default: with a baseline the cap is then chosen from the rule. */
  runsGiven?: boolean;
  jobs: number;
  untilFail?: boolean;
  clear: string[] | false | undefined;
  shell?: boolean;
  json?: boolean;
  /** A rate (0 < r < 1) or 'last': the failure rate of the latest earlier code that failed. */
  baseline?: number | 'last';
  fixedRate?: number;
  confidence?: number;
  /** Path of the JUnit report the command writes; `{run}` is replaced by the run number. */
  junit?: string;
}

/** Exit codes of a session with a baseline: the answer, so scripts can branch on it. */
export const EXIT_FIXED = 0;
export const EXIT_NOT_FIXED = 1;
export const EXIT_UNDECIDED = 3;

const isFailure = (o: RunOutcome): boolean => !(o.exitCode === 0 && o.signal === null);

export async function flakeCommand(argv: string[], opts: FlakeOptions): Promise<number> {
  if (argv.length === 0) throw new UsageError('no command given; usage: devsup flake [options] -- <command> [args...]');
  // Commander's parser checks these too; this keeps the action safe when called directly.
  if (!(Number.isInteger(opts.runs) && opts.runs >= 1)) throw new UsageError(`-n must be at least 1, got ${opts.runs}`);
  if (!(Number.isInteger(opts.jobs) && opts.jobs >= 1)) throw new UsageError(`-j must be at least 1, got ${opts.jobs}`);
  if (opts.baseline !== undefined && opts.untilFail) throw new UsageError('--until-fail and --baseline are two different stopping rules; give one');
  const cwd = process.cwd();
  const command: string[] | string = opts.shell ? argv.join(' ') : argv;
  const explicit = opts.clear === false ? undefined : opts.clear;
  const { presets, globs } = explicit ? parseClearSpec(explicit) : { presets: presetsForCommand(command), globs: [] };
  const stateDir = stateDirFor(cwd);
  const sessionStart = new Date();
  const session = newRunId(sessionStart);
  const sessionDir = join(stateDir, 'flake', session);
  const code = watchCode(cwd, globs);
  // Before the first run, which may write into the tree itself.
  const codeId = await code.codeId;

  const design = await designFor(opts, stateDir, command, codeId);
  const cap = design && !opts.runsGiven ? defaultCap(design) : opts.runs;
  if (design) for (const l of planLines(design, cap)) process.stderr.write(`${l}\n`);

  const junitDir = join(sessionDir, 'junit');
  const planned = planJunit({ command, cwd, given: opts.junit, dir: junitDir, env: process.env });
  if (!planned.plan && planned.note) process.stderr.write(`devsup: note: ${planned.note}\n`);
  const junit = planned.plan ?? undefined;
  let jobs = opts.jobs;
  if (junit?.sharedPath && jobs > 1) {
    process.stderr.write(`devsup: note: every run writes ${opts.junit}, so runs go one at a time (put {run} in the path to run them in parallel)\n`);
    jobs = 1;
  }
  // Link-free inside .devsup, like every directory devsup writes there.
  if (junit && junit.kind !== 'given') await stateSubdir(stateDir, 'flake', session, 'junit');

  const warned = new Set<string>();
  const warn = (message: string): void => {
    // Clearing runs before every run; one broken path must not print fifty times.
    if (warned.has(message)) return;
    warned.add(message);
    process.stderr.write(`devsup: warning: ${message}\n`);
  };

  const abort = new AbortController();
  // Set when the rule has decided: runs still going are stopped, and not counted.
  const decided = new AbortController();
  let signalExit: number | undefined;
  const detach = onShutdownSignals((_signal, exitCode) => {
    signalExit = exitCode;
    abort.abort();
  });
  const pycache = isPythonCommand(command) ? await openSessionPrefix(stateDir, 'flake', cwd, globs) : undefined;
  const runner = createFlakeRunner({
    command,
    cwd,
    clear: opts.clear === false ? null : { roots: [cwd], presets, globs },
    pycache,
    signal: AbortSignal.any([abort.signal, decided.signal]),
    graceMs: 3000,
    onWarning: warn,
    ...(junit ? { junit } : {}),
  });
  const progress = createProgress({
    out: process.stderr,
    isTTY: Boolean(process.stderr.isTTY),
    total: cap,
    columns: process.stderr.columns,
  });

  const tally = junit ? new TestTally() : null;
  const logs = keptLogs(stateDir, session, tally, warn);
  const runOnce = async (i: number): Promise<RunOutcome> => {
    const o = await runner.runOnce(i);
    if (abort.signal.aborted || decided.signal.aborted) return o;
    if (tally && o.tests !== undefined) tally.add(i, isFailure(o), o.tests);
    if (isFailure(o)) await logs.offer(i, o.output);
    return o;
  };

  let report: FlakeReport;
  try {
    report = await runFlake({
      n: cap,
      jobs,
      untilFail: opts.untilFail,
      ...(design ? { sequential: design, onDecided: () => decided.abort() } : {}),
      runOnce,
      onProgress: (p) => progress.update(p),
      signal: abort.signal,
    });
  } catch (err) {
    progress.finish();
    throw asCliError(err);
  } finally {
    detach();
    // Every run has ended (runFlake waits for them), so no Python process still writes there.
    await pycache?.close();
    if (junit && junit.kind !== 'given') await rm(junitDir, { recursive: true, force: true }).catch(() => undefined);
  }
  progress.finish();

  for (const f of report.firstFailures) await logs.offer(f.index, f.output, true);
  const tests = tally?.summarize(report.counted) ?? null;
  // Runs were saved in the order they ended; keep only those the report names.
  const shown = new Set([...report.firstFailures.map((f) => f.index), ...(tests?.failing.flatMap((t) => t.failingRuns) ?? [])]);
  const saved = await logs.keepOnly(shown);
  await recordHistory(stateDir, runner.started(), codeId, saved).catch((err: unknown) => {
    warn(`history not recorded: ${errorMessage(err)}`);
  });
  if (report.runs > 0) {
    await appendSession(stateDir, sessionRecord(session, sessionStart, command, commandLabel(command), codeId, report, tests, design)).catch((err: unknown) => {
      warn(`session not recorded: ${errorMessage(err)}`);
    });
  }
  const changed = await code.changedSince();
  if (changed.length > 0) {
    // Often just files the runs themselves write; named so the user can tell that from an edit.
    warn(`files changed while the runs went on, so they may not all have run the same code: ${formatFiles(changed)}`);
  }

  const verdict = report.verdict;
  if (opts.json) {
    const shownLogs = saved.map((l) => ({ ...l, index: l.run - 1 }));
    const { counted: _counted, ...rest } = report;
    const decision = design ? { baseline: design.baseline, fixedRate: design.fixedRate, confidence: design.confidence, cap } : undefined;
    process.stdout.write(`${JSON.stringify({ command, codeId, ...rest, ...(decision ? { decision } : {}), ...(tests ? { tests } : {}), logs: shownLogs })}\n`);
  } else {
    const lines: string[] = [];
    if (design && verdict) lines.push(verdictLine(verdict, design, report.runs, report.failed, cap));
    lines.push(...formatFlakeReport(report));
    if (tests) {
      const pathOf = new Map(saved.map((l) => [l.run - 1, shortPath(cwd, l.path)]));
      lines.push(...testsLines(tests, (i) => pathOf.get(i)));
    }
    const firstLogs = saved.filter((l) => report.firstFailures.some((f) => f.index === l.run - 1));
    if (firstLogs.length > 0) lines.push('output saved:', ...firstLogs.map((l) => `  run ${l.run}: ${shortPath(cwd, l.path)}`));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (signalExit !== undefined) return signalExit;
  if (design) return verdict === 'fixed' ? EXIT_FIXED : verdict === 'not-fixed' ? EXIT_NOT_FIXED : EXIT_UNDECIDED;
  return report.failed > 0 ? 1 : 0;
}

async function designFor(opts: FlakeOptions, stateDir: string, command: string[] | string, codeId: string): Promise<SequentialDesign | null> {
  if (opts.baseline === undefined) return null;
  let baseline: number;
  if (opts.baseline === 'last') {
    const found = await baselineFromHistory(stateDir, command, codeId);
    process.stderr.write(`${found.note}\n`);
    baseline = found.rate;
  } else {
    baseline = opts.baseline;
  }
  const fixedRate = opts.fixedRate ?? baseline / 10;
  if (fixedRate >= baseline) {
    throw new UsageError(`--fixed-rate must be below the baseline (${formatRate(baseline)}), got ${formatRate(fixedRate)}`);
  }
  return sequentialDesign(baseline, fixedRate, opts.confidence ?? 0.95);
}

/** A command that cannot start is the user's mistake, not a flaky failure. */
function asCliError(err: unknown): unknown {
  if (err instanceof SpawnError && err.reason !== 'other') return new DevsupError(err.message, 'spawn', 2);
  return err;
}

function shortPath(cwd: string, path: string): string {
  const abs = resolve(path);
  return abs.startsWith(cwd + sep) ? relative(cwd, abs) : abs;
}
