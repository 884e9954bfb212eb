import { Option, type Command } from '../commander.js';
import { countParser, parseDuration } from '../parse.js';

export interface ControlOptions {
  name: string;
}

function nameOption(): Option {
  return new Option('--name <name>', 'which supervisor of the project (the --name given to run or up)').default('default');
}

/**
 * Commands that talk to a running supervisor from another terminal. Their code is loaded only when
 * used, so `devsup --version` and the supervisor itself start fast.
 */
export function registerControl(program: Command): void {
  program
    .command('status')
    .description('show whether each worker runs the code on disk (exit 0 all fresh, 1 any stale or failing, 3 none running)')
    .option('--json', 'print the status as one JSON object')
    .addOption(nameOption())
    .action(async (opts: ControlOptions & { json?: boolean }) => {
      const { statusCommand } = await import('./status.js');
      process.exitCode = await statusCommand(opts);
    });

  program
    .command('wait-fresh')
    .description('wait until the workers run the code on disk now and are ready (tasks: until a run on it finished)')
    .argument('[worker...]', 'workers to wait for (default: all)')
    .addOption(new Option('--timeout <duration>', 'give up after this long (exit 1)').argParser(parseDuration).default(30_000, '30s'))
    .addOption(nameOption())
    .action(async (workers: string[], opts: ControlOptions & { timeout: number }) => {
      const { waitFreshCommand } = await import('./wait.js');
      process.exitCode = await waitFreshCommand(workers, opts);
    });

  program
    .command('restart')
    .description('restart workers (all of them without names)')
    .argument('[worker...]', 'workers to restart')
    .option('--all', 'restart every worker')
    .addOption(nameOption())
    .action(async (workers: string[], opts: ControlOptions & { all?: boolean }) => {
      const { restartCommand } = await import('./ops.js');
      process.exitCode = await restartCommand(workers, opts);
    });

  for (const [verb, what] of [
    ['stop', 'stop a worker until `devsup start`'],
    ['start', 'start a stopped worker'],
  ] as const) {
    program
      .command(verb)
      .description(what)
      .argument('<worker>')
      .addOption(nameOption())
      .action(async (worker: string, opts: ControlOptions) => {
        const { stopStartCommand } = await import('./ops.js');
        process.exitCode = await stopStartCommand(verb, worker, opts);
      });
  }

  program
    .command('logs')
    .description("print a worker's recent output")
    .argument('<worker>')
    .option('-n, --lines <n>', 'how many lines', countParser(0, 100_000), 200)
    .option('-f, --follow', 'keep printing new output')
    .addOption(nameOption())
    .action(async (worker: string, opts: ControlOptions & { lines: number; follow?: boolean }) => {
      const { logsCommand } = await import('./ops.js');
      process.exitCode = await logsCommand(worker, opts);
    });

  program
    .command('hold')
    .description('pause restarts while a command runs (e.g. a multi-step rewrite), then restart once')
    .usage('[options] -- <command> [args...]')
    .argument('<command...>', 'the command and its arguments')
    .addOption(nameOption())
    .passThroughOptions()
    .action(async (command: string[], opts: ControlOptions) => {
      const { holdCommand } = await import('./hold.js');
      process.exitCode = await holdCommand(command, opts);
    });

  program
    .command('events')
    .description('stream the supervisor events as JSON lines')
    .addOption(nameOption())
    .action(async (opts: ControlOptions) => {
      const { eventsCommand } = await import('./ops.js');
      process.exitCode = await eventsCommand(opts);
    });
}
