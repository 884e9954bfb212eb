import { Command, CommanderError } from './commander.js';
import { DevsupError, errorMessage } from '../core/errors.js';
import { registerRun } from './run/command.js';
import { registerUp } from './up/command.js';
import { registerInit } from './init/command.js';
import { registerControl } from './control/commands.js';
import { registerInspect } from './inspect/commands.js';
import { registerFlake } from './flake/commands.js';
import { registerCompletion } from './completion-command.js';
import { addExamples } from './examples.js';
import { packageVersion } from './version.js';

export function buildProgram(): Command {
  const program = new Command('devsup')
    .description('A development supervisor that never leaves stale code running.')
    .version(packageVersion(), '-V, --version')
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerRun(program);
  registerUp(program);
  registerInit(program);
  registerControl(program);
  registerInspect(program);
  registerFlake(program);
  registerCompletion(program);
  addExamples(program);
  return program;
}

/** Entry point: every user error ends in one line and an exit code, never a stack trace. */
export async function main(argv: string[]): Promise<void> {
  // A reader that went away (`devsup --help | head -3`, a pager quit early) fails the next write
  // with EPIPE, and a terminal that closed with EIO; without a listener either ends devsup with a
  // stack trace, and with its children still running. Commands that own child processes stop them
  // first (see signals.ts); for the others there is nothing left to do but stop writing, and no
  // place left to say why.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    process.exitCode = exitCodeFor(err);
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message.
    return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
  }
  if (err instanceof DevsupError) {
    process.stderr.write(`devsup: ${err.message}\n`);
    return err.exitCode;
  }
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EMFILE' || code === 'ENFILE') {
    // Not a bug of devsup's: the limit on open files is too low for it to load and watch.
    process.stderr.write(`devsup: too many open files (${code}): raise the limit with \`ulimit -n\` and try again\n`);
    return 71;
  }
  process.stderr.write(`devsup: internal error: ${errorMessage(err)}\n`);
  if (process.env.DEVSUP_DEBUG) process.stderr.write(`${(err as Error).stack ?? ''}\n`);
  return 70;
}
