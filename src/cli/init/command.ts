import { Command } from '../commander.js';

export interface InitOptions {
  config: string;
  force?: boolean;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('write a commented starter devsup.config.json for the project in this directory')
    .option('-c, --config <file>', 'where to write it', 'devsup.config.json')
    .option('-f, --force', 'replace an existing file')
    .action(async (opts: InitOptions) => {
      const { initCommand } = await import('./action.js');
      process.exitCode = await initCommand(opts);
    });
}
