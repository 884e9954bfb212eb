import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { DevsupError } from '../core/errors.js';
import { procId } from './proc-start.js';
import { newToken, rememberToken, TOKEN_VAR, tokenValue } from './token.js';
import type { ExitRecord, ProcId } from './types.js';

export interface SpawnSpec {
  /** An argv array, or one string that `/bin/sh -c` runs. */
  command: string[] | string;
  cwd: string;
  /** Merged onto process.env; an undefined value removes the variable. */
  env: Record<string, string | undefined>;
  stdin: 'pipe' | 'ignore';
  /** With 'pipe', output waits until the caller reads it; unread, the child stalls on a full pipe. */
  output: 'inherit' | 'pipe';
}

export interface Child {
  pid: number;
  id: ProcId;
  stdin?: Writable;
  stdout?: Readable;
  stderr?: Readable;
  /** In the environment of every process of the tree, daemons included (see token.ts). */
  token: string;
  /** Settles when the process itself exits, even if a grandchild still holds its pipes. Never rejects. */
  exited: Promise<ExitRecord>;
}

export type SpawnFailure = 'not-found' | 'permission' | 'cwd' | 'other';

export class SpawnError extends DevsupError {
  constructor(
    message: string,
    readonly reason: SpawnFailure,
  ) {
    super(message, 'spawn');
  }
}

export async function spawnChild(spec: SpawnSpec): Promise<Child> {
  const name = typeof spec.command === 'string' ? spec.command : (spec.command[0] ?? '');
  if (name.trim() === '') throw new SpawnError('no command given', 'other');
  // The working directory is looked at only when the spawn fails (see failure()): a look before
  // every spawn would put a round trip through libuv's thread pool on every restart's path.

  const token = newToken();
  const options: SpawnOptions = {
    cwd: spec.cwd,
    // child_process leaves out variables whose value is undefined.
    env: { ...process.env, ...spec.env, [TOKEN_VAR]: tokenValue(token) },
    stdio: [spec.stdin, spec.output, spec.output],
    // A group of its own, so the whole tree can be signalled; devsup stops trees itself.
    detached: true,
  };
  const started = performance.now();
  let sub: ChildProcess;
  try {
    sub = typeof spec.command === 'string' ? spawn(spec.command, { ...options, shell: true }) : spawn(name, spec.command.slice(1), options);
  } catch (err) {
    throw await failure(err, name, spec.cwd);
  }
  // ENOENT, EACCES and the like come as an 'error' event on the next tick, with no pid.
  const failed = new Promise<unknown>((resolve) => sub.once('error', resolve));
  const pid = sub.pid;
  if (pid === undefined) throw await failure(await failed, name, spec.cwd);
  // A later 'error' (a signal that could not be sent) must not become an uncaught exception.
  sub.on('error', () => undefined);

  // Attached before anything yields to the event loop, so the exit cannot be missed.
  const exited = new Promise<ExitRecord>((resolve) => {
    sub.once('exit', (code, signal) => resolve({ code, signal, durationMs: performance.now() - started }));
  });
  // The child cannot have been reaped yet: that needs the event loop, which has not run since spawn.
  const id = procId(pid) ?? { pid, start: '' };
  rememberToken(id, token);

  const child: Child = { pid, id, token, exited };
  if (sub.stdin) {
    // Writing to a child that has exited fails with EPIPE; the exit itself is what gets reported.
    sub.stdin.on('error', () => undefined);
    child.stdin = sub.stdin;
  }
  if (sub.stdout) child.stdout = hold(sub.stdout);
  if (sub.stderr) child.stderr = hold(sub.stderr);
  return child;
}

/**
 * On exit, child_process resumes every output stream nobody listens to, dropping its data. Piping
 * into a stream of our own keeps the output (with backpressure) until the caller reads it.
 */
function hold(stream: Readable): Readable {
  return stream.pipe(new PassThrough());
}

async function checkCwd(cwd: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(cwd)).isDirectory();
  } catch {
    throw new SpawnError(`working directory does not exist: ${cwd}`, 'cwd');
  }
  if (!isDir) throw new SpawnError(`working directory is not a directory: ${cwd}`, 'cwd');
}

async function failure(err: unknown, name: string, cwd: string): Promise<SpawnError> {
  const code = (err as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    // Node reports a missing working directory as ENOENT, the same as a missing command.
    const cwdGone = await checkCwd(cwd).then(
      () => undefined,
      (e: unknown) => e as SpawnError,
    );
    return cwdGone ?? new SpawnError(`command not found: ${name}`, 'not-found');
  }
  if (code === 'EACCES') return new SpawnError(`permission denied: ${name}`, 'permission');
  const detail = typeof code === 'string' ? code : String((err as { message?: unknown } | undefined)?.message ?? err).split('\n')[0];
  return new SpawnError(`cannot start ${name}: ${detail}`, 'other');
}
