import type { Command } from '../commander.js';
import type { FlakeOptions } from './action.js';
import type { HistoryOptions } from './history.js';
import { collect, countParser } from '../parse.js';

/** Runs, jobs and history lines: at least one. */
export const parseCount = countParser(1);

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
    .passThroughOptions()
    .action(async (command: string[], opts: FlakeOptions) => {
      const { flakeCommand } = await import('./action.js');
      process.exitCode = await flakeCommand(command, opts);
    });

  program
    .command('history')
    .description('list recorded runs, newest first: which code each ran on and how it ended')
    .argument('[worker]', 'only this worker ("flake" for devsup flake runs)')
    .option('-n, --limit <n>', 'how many runs to show', parseCount, 20)
    .option('--json', 'print the records as a JSON array')
    .action(async (worker: string | undefined, opts: HistoryOptions) => {
      const { historyCommand } = await import('./history.js');
      process.exitCode = await historyCommand(worker, opts);
    });
}
