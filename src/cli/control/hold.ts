import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { UsageError } from '../../core/errors.js';
import type { ControlOptions } from './commands.js';
import { connectFromCwd } from './connect.js';

/**
 * Holds restarts while `command` runs, then releases: the edits it makes end in one restart on the
 * finished result. The hold lives on this connection, so if this process dies the supervisor
 * releases it anyway. Exits with the command's code.
 */
export async function holdCommand(command: string[], opts: ControlOptions): Promise<number> {
  const [file, ...args] = command;
  if (!file) throw new UsageError('no command given; usage: devsup hold -- <command> [args...]');
  const client = await connectFromCwd(opts.name);
  try {
    const holdId = await client.hold(`devsup hold (pid ${process.pid}): ${command.join(' ')}`);
    const code = await run(file, args);
    // If the supervisor went away meanwhile there is nothing left to release.
    await client.release(holdId).catch(() => undefined);
    return code;
  } finally {
    client.close();
  }
}

function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: 'inherit' });
    // Ctrl-C reaches the command through the terminal; this process stays to release the hold after it.
    const ignore = (): void => undefined;
    const forward = (sig: NodeJS.Signals): void => void child.kill(sig);
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    process.on('SIGHUP', forward);
    const done = (code: number): void => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      process.off('SIGHUP', forward);
      resolve(code);
    };
    child.once('error', (err: NodeJS.ErrnoException) => {
      process.stderr.write(`devsup: cannot run ${file}: ${err.code === 'ENOENT' ? 'command not found' : err.message}\n`);
      done(err.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0)));
  });
}
