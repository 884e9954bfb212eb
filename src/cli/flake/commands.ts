import { InvalidArgumentError, type Command } from '../commander.js';
import type { FlakeOptions } from './action.js';
import type { HistoryOptions } from './history.js';
import { collect, countParser } from '../parse.js';

/** Runs, jobs and history lines: at least one. */
export const parseCount = countParser(1);

/** `5%` or `0.05`: a rate strictly between 0 and 1. */
export function parseRate(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*(%?)\s*$/.exec(value);
  const r = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(r > 0 && r < 1) || (m && !m[2] && Number(m[1]) >= 1)) {
    throw new InvalidArgumentError(`expected a rate such as 5% or 0.05, got "${value}"`);
  }
  return r;
}

/** A baseline rate, or `last` for the rate recorded on the latest earlier code that failed. */
export function parseBaseline(value: string): number | 'last' {
  return value.trim() === 'last' ? 'last' : parseRate(value);
}

/** Like a rate, and 0 is allowed: "fixed" then means no failure at all. */
function parseFixedRate(value: string): number {
  return /^\s*0+(\.0*)?\s*%?\s*$/.test(value) ? 0 : parseRate(value);
}

function parseConfidence(value: string): number {
  const c = parseRate(value);
  if (c <= 0.5) throw new InvalidArgumentError(`a confidence above 50% is needed, got "${value}"`);
  return c;
}

export function registerFlake(program: Command): void {
  program
    .command('flake')
    .description('run a command many times, each in a fresh process, and measure how often it fails')
    .usage('[options] -- <command> [args...]')
    .argument('[command...]', 'the command and its arguments')
    .option('-n, --runs <n>', 'how many runs', parseCount, 50)
    .option('-j, --jobs <n>', 'runs at the same time', parseCount, 2)
    .option('--until-fail', 'stop launching runs at the first failure')
    .option('--clear <list>', 'caches to clear before each run: presets (python, pytest, node, vite, tsbuildinfo) or globs (repeatable)', collect)
    .option('--no-clear', 'clear no caches')
    .option('--shell', 'run the command through the shell (give it as one string)')
    .option('--json', 'print the report as JSON')
    .option('--baseline <rate>', 'is it fixed? run until the failure rate is shown below this rate (5%, 0.05) or not; "last": the rate recorded on the latest earlier code that failed. Exit 0 fixed, 1 not fixed, 3 undecided at the cap (-n)', parseBaseline)
    .option('--fixed-rate <rate>', 'with --baseline: the rate that counts as fixed (default: a tenth of the baseline; 0: no failure allowed)', parseFixedRate)
    .option('--confidence <pct>', 'with --baseline: confidence of the answer', parseConfidence, 0.95)
    .option('--junit <path>', 'the JUnit XML report the command writes ({run} is replaced by the run number): failures per test case. pytest and node --test need no flag')
    .option('--compare', 'no runs: the failure rate of this command (or of the latest one) per code id, and whether the two latest differ')
    .option('--task <name>', 'with --compare: a task with "repeat" instead of a command')
    .passThroughOptions()
    .action(async (command: string[], opts: FlakeOptions & { compare?: boolean; task?: string }, cmd: Command) => {
      if (opts.compare) {
        const { compareCommand } = await import('./compare.js');
        process.exitCode = await compareCommand(command, { shell: opts.shell, task: opts.task, confidence: opts.confidence });
        return;
      }
      const { flakeCommand } = await import('./action.js');
      process.exitCode = await flakeCommand(command, { ...opts, runsGiven: cmd.getOptionValueSource('runs') !== 'default' });
    });

  program
    .command('history')
    .description('list recorded runs, newest first: which code each ran on and how it ended')
    .argument('[worker]', 'only this worker ("flake" for devsup flake runs)')
    .option('-n, --limit <n>', 'how many runs to show', parseCount, 20)
    .option('--json', 'print the records as a JSON array')
    .option('--flaky', 'instead: the failure rate of each flake command and repeated task per code id, and whether the two latest differ')
    .action(async (worker: string | undefined, opts: HistoryOptions) => {
      const { historyCommand } = await import('./history.js');
      process.exitCode = await historyCommand(worker, opts);
    });
}
