import { Command } from '../commander.js';

export interface UpOptions {
  config?: string;
  tui: boolean;
  json?: boolean;
  verbose?: boolean;
  name: string;
  clearSources?: boolean;
}

export function registerUp(program: Command): void {
  program
    .command('up')
    .description('run every worker of devsup.config.json, with a terminal dashboard')
    .option('-c, --config <file>', 'config file', 'devsup.config.json')
    .option('--no-tui', 'print output line by line instead of the dashboard')
    .option('--json', 'print events as JSON lines')
    .option('-v, --verbose', 'explain every step')
    .option('--clear-sources', 'let a clear glob delete files that are also watched sources (refused otherwise)')
    .option('--name <name>', 'name of this supervisor, to run several in one project', 'default')
    .action(async (opts: UpOptions) => {
      const { upCommand } = await import('./action.js');
      process.exitCode = await upCommand(opts);
    });
}
