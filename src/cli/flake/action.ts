import { mkdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { isPythonCommand, parseClearSpec, presetsForCommand } from '../../caches/presets.js';
import { openSessionPrefix } from '../../caches/pycache-session.js';
import { DevsupError, errorMessage, UsageError } from '../../core/errors.js';
import { createProgress } from '../../flake/progress.js';
import { formatFlakeReport } from '../../flake/report.js';
import { runFlake, type FlakeReport } from '../../flake/runner.js';
import { newRunId } from '../../history/logs.js';
import type { RunRecord } from '../../history/record.js';
import { appendRun } from '../../history/store.js';
import { formatFiles } from '../../views/format.js';
import { SpawnError } from '../../process/spawn.js';
import { watchCode } from './code-id.js';
import { createFlakeRunner, type StartedRun } from './run.js';
import { stateDirFor } from './state.js';
import { onShutdownSignals } from '../signals.js';

export interface FlakeOptions {
  runs: number;
  jobs: number;
  untilFail?: boolean;
  clear: string[] | false | undefined;
  shell?: boolean;
  json?: boolean;
}

interface SavedLog {
  run: number;
  path: string;
}

export async function flakeCommand(argv: string[], opts: FlakeOptions): Promise<number> {
  if (argv.length === 0) throw new UsageError('no command given; usage: devsup flake [options] -- <command> [args...]');
  // Commander's parser checks these too; this keeps the action safe when called directly.
  if (!(Number.isInteger(opts.runs) && opts.runs >= 1)) throw new UsageError(`-n must be at least 1, got ${opts.runs}`);
  if (!(Number.isInteger(opts.jobs) && opts.jobs >= 1)) throw new UsageError(`-j must be at least 1, got ${opts.jobs}`);
  const cwd = process.cwd();
  const command: string[] | string = opts.shell ? argv.join(' ') : argv;
  const explicit = opts.clear === false ? undefined : opts.clear;
  const { presets, globs } = explicit ? parseClearSpec(explicit) : { presets: presetsForCommand(command), globs: [] };
  const stateDir = stateDirFor(cwd);
  const session = newRunId();
  const code = watchCode(cwd, globs);
  // Before the first run, which may write into the tree itself.
  const codeId = await code.codeId;

  const warned = new Set<string>();
  const warn = (message: string): void => {
    // Clearing runs before every run; one broken path must not print fifty times.
    if (warned.has(message)) return;
    warned.add(message);
    process.stderr.write(`devsup: warning: ${message}\n`);
  };

  const abort = new AbortController();
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
    signal: abort.signal,
    graceMs: 3000,
    onWarning: warn,
  });
  const progress = createProgress({
    out: process.stderr,
    isTTY: Boolean(process.stderr.isTTY),
    total: opts.runs,
    columns: process.stderr.columns,
  });

  let report: FlakeReport;
  try {
    report = await runFlake({
      n: opts.runs,
      jobs: opts.jobs,
      untilFail: opts.untilFail,
      runOnce: runner.runOnce,
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
  }
  progress.finish();

  const logs = await saveFailureLogs(join(stateDir, 'flake', session), report).catch((err: unknown) => {
    warn(`could not save the failing runs' output: ${errorMessage(err)}`);
    return [];
  });
  await recordHistory(stateDir, runner.started(), codeId, logs).catch((err: unknown) => {
    warn(`history not recorded: ${errorMessage(err)}`);
  });
  const changed = await code.changedSince();
  if (changed.length > 0) {
    // Often just files the runs themselves write; named so the user can tell that from an edit.
    warn(`files changed while the runs went on, so they may not all have run the same code: ${formatFiles(changed)}`);
  }

  if (opts.json) {
    const shownLogs = logs.map((l) => ({ ...l, index: l.run - 1 }));
    process.stdout.write(`${JSON.stringify({ command, codeId, ...report, logs: shownLogs })}\n`);
  } else {
    const lines = formatFlakeReport(report);
    if (logs.length > 0) lines.push('output saved:', ...logs.map((l) => `  run ${l.run}: ${shortPath(cwd, l.path)}`));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  if (signalExit !== undefined) return signalExit;
  return report.failed > 0 ? 1 : 0;
}

/** A command that cannot start is the user's mistake, not a flaky failure. */
function asCliError(err: unknown): unknown {
  if (err instanceof SpawnError && err.reason !== 'other') return new DevsupError(err.message, 'spawn', 2);
  return err;
}

async function saveFailureLogs(dir: string, report: FlakeReport): Promise<SavedLog[]> {
  if (report.firstFailures.length === 0) return [];
  await mkdir(dir, { recursive: true });
  return Promise.all(
    report.firstFailures.map(async (f) => {
      const run = f.index + 1;
      const path = join(dir, `run-${run}.log`);
      await writeFile(path, f.output);
      return { run, path };
    }),
  );
}

async function recordHistory(stateDir: string, runs: StartedRun[], codeId: string, logs: SavedLog[]): Promise<void> {
  const logOf = new Map(logs.map((l) => [l.run, l.path]));
  for (const r of runs) {
    const o = r.outcome;
    const log = logOf.get(r.run);
    const rec: RunRecord = {
      v: 1,
      worker: 'flake',
      generation: r.run,
      codeId,
      changedFiles: [],
      startedAt: r.startedAt.toISOString(),
      durationMs: Math.max(0, o.durationMs),
      exitCode: o.exitCode,
      signal: o.signal,
      result: r.cancelled ? 'cancelled' : o.exitCode === 0 && o.signal === null ? 'passed' : 'failed',
      ...(log !== undefined ? { log } : {}),
    };
    await appendRun(stateDir, rec);
  }
}

function shortPath(cwd: string, path: string): string {
  const abs = resolve(path);
  return abs.startsWith(cwd + sep) ? relative(cwd, abs) : abs;
}
