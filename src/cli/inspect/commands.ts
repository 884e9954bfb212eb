import type { Command } from 'commander';
import { collect } from '../parse.js';

export interface PsOptions {
  root?: string;
  json?: boolean;
  kill?: boolean;
  yes?: boolean;
}

export interface DoctorCliOptions {
  json?: boolean;
}

export interface CleanOptions {
  clear?: string[];
  clearSources?: boolean;
  dryRun?: boolean;
}

/** Commands that look at a project from outside: they need no supervisor running. */
export function registerInspect(program: Command): void {
  program
    .command('ps')
    .description("list the project's processes and whether each runs the code on disk (exit 1 when one is stale)")
    .option('--root <dir>', 'the project directory (default: the current directory)')
    .option('--json', 'print one JSON document instead of the table')
    .option('--kill', 'stop every stale process together with its process tree')
    .option('-y, --yes', 'with --kill: do not ask for confirmation')
    .action(async (opts: PsOptions) => {
      // Loaded only when used, so other commands start fast.
      const { psCommand } = await import('./ps.js');
      process.exitCode = await psCommand(opts);
    });

  program
    .command('doctor')
    .description('look for caches and conditions that make code run stale, and stale processes (exit 1 on a hazard)')
    .argument('[dir]', 'the project directory (default: the current directory)')
    .option('--json', 'print { findings, staleProcesses } as JSON')
    .action(async (dir: string | undefined, opts: DoctorCliOptions) => {
      const { doctorCommand } = await import('./doctor.js');
      process.exitCode = await doctorCommand(dir, opts);
    });

  program
    .command('clean')
    .description('remove the caches run clears (all presets by default) from a project')
    .argument('[dir]', 'the project directory (default: the current directory)')
    .option('--clear <list>', 'only what this names: presets (python, pytest, node, vite, tsbuildinfo) and globs (repeatable)', collect)
    .option('--clear-sources', 'let a glob delete files that are also sources (refused otherwise)')
    .option('-n, --dry-run', 'list what would be removed, remove nothing')
    .action(async (dir: string | undefined, opts: CleanOptions) => {
      const { cleanCommand } = await import('./clean.js');
      process.exitCode = await cleanCommand(dir, opts);
    });
}
