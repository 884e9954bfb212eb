import { stat } from 'node:fs/promises';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { execa, type Options } from 'execa';
import { DevsupError } from '../core/errors.js';
import { procId } from '../stale/proc-start.js';
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
  await checkCwd(spec.cwd);

  const options = {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    extendEnv: false,
    stdin: spec.stdin,
    stdout: spec.output,
    stderr: spec.output,
    // A group of its own, so the whole tree can be signalled; devsup stops trees itself.
    detached: true,
    cleanup: false,
    forceKillAfterDelay: false,
    buffer: false,
    reject: false,
  } satisfies Options;
  const started = performance.now();
  const sub =
    typeof spec.command === 'string'
      ? execa(spec.command, { ...options, shell: true })
      : execa(name, spec.command.slice(1), options);
  // reject:false already turns failures into results; this only keeps a surprise from going unhandled.
  const settled = sub.then(
    (r) => r,
    (e: unknown) => e,
  );

  const pid = sub.pid;
  if (pid === undefined) throw failure(await settled, name, spec.cwd);

  // Attached before anything yields to the event loop, so the exit cannot be missed.
  const exited = new Promise<ExitRecord>((resolve) => {
    sub.once('exit', (code, signal) => resolve({ code, signal, durationMs: performance.now() - started }));
  });
  // The child cannot have been reaped yet: that needs the event loop, which has not run since spawn.
  const id = procId(pid) ?? { pid, start: '' };

  const child: Child = { pid, id, exited };
  if (sub.stdin) child.stdin = sub.stdin;
  if (sub.stdout) child.stdout = hold(sub.stdout);
  if (sub.stderr) child.stderr = hold(sub.stderr);
  return child;
}

/**
 * With buffer:false, execa resumes any output stream nobody reads within a tick, dropping its data.
 * Piping into a stream of our own keeps the output (with backpressure) until the caller reads it.
 */
function hold(stream: Readable): Readable {
  return stream.pipe(new PassThrough());
}

async function checkCwd(cwd: string): Promise<void> {
  // Node reports a missing cwd as ENOENT, indistinguishable from a missing command: check first.
  let isDir: boolean;
  try {
    isDir = (await stat(cwd)).isDirectory();
  } catch {
    throw new SpawnError(`working directory does not exist: ${cwd}`, 'cwd');
  }
  if (!isDir) throw new SpawnError(`working directory is not a directory: ${cwd}`, 'cwd');
}

function failure(result: unknown, name: string, cwd: string): SpawnError {
  const code = (result as { code?: unknown } | undefined)?.code;
  if (code === 'ENOENT') {
    return /The "cwd" option is invalid/.test(String((result as { message?: unknown }).message))
      ? new SpawnError(`working directory does not exist: ${cwd}`, 'cwd')
      : new SpawnError(`command not found: ${name}`, 'not-found');
  }
  if (code === 'EACCES') return new SpawnError(`permission denied: ${name}`, 'permission');
  const detail = typeof code === 'string' ? code : firstLine(result);
  return new SpawnError(`cannot start ${name}: ${detail}`, 'other');
}

function firstLine(result: unknown): string {
  const msg = (result as { shortMessage?: unknown; message?: unknown } | undefined)?.shortMessage;
  return String(msg ?? result).split('\n')[0] ?? 'unknown error';
}
