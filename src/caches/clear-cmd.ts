import { spawn, type ChildProcess } from 'node:child_process';

export interface ClearCommandResult {
  /** Exit code 0 within the time limit. */
  ok: boolean;
  /** stdout and stderr in arrival order, the tail only if it was long, plus devsup's own notes. */
  output: string;
  /** null when the command was killed or could not start. */
  code: number | null;
}

export interface ClearCommandOptions {
  timeoutMs?: number;
  /** After SIGTERM on timeout, how long before SIGKILL. */
  killGraceMs?: number;
}

const MAX_OUTPUT = 64 * 1024;
/** After the shell exits, a background child may still hold the pipes; don't wait on it for long. */
const PIPE_GRACE_MS = 300;

function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    // The shell leads its own process group, so this reaches whatever it started too.
    process.kill(-child.pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') child.kill(signal);
  }
}

/**
 * Runs a `--clear-cmd` through the shell. A restart must not hang on it or crash because of it,
 * so it resolves in every case: failure, timeout, or a shell that cannot start.
 */
export function runClearCommand(
  cmd: string,
  cwd: string,
  opts: ClearCommandOptions = {},
): Promise<ClearCommandResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const killGraceMs = opts.killGraceMs ?? 2_000;
  return new Promise((resolvePromise) => {
    let output = '';
    const notes: string[] = [];
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];

    const child = spawn(cmd, { cwd, shell: true, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (chunk: string) => {
      output += chunk;
      if (output.length > 2 * MAX_OUTPUT) output = output.slice(-MAX_OUTPUT);
    };
    child.stdout?.setEncoding('utf8').on('data', append);
    child.stderr?.setEncoding('utf8').on('data', append);

    const finish = (code: number | null) => {
      if (settled) return;
      settled = true;
      for (const t of timers) clearTimeout(t);
      child.stdout?.destroy();
      child.stderr?.destroy();
      let text = output.length > MAX_OUTPUT ? `…${output.slice(-MAX_OUTPUT)}` : output;
      if (notes.length > 0) text += `${text === '' || text.endsWith('\n') ? '' : '\n'}${notes.join('\n')}\n`;
      resolvePromise({ ok: code === 0 && !timedOut, output: text, code: timedOut ? null : code });
    };

    child.on('error', (err) => {
      notes.push(`[devsup] clear command could not run in ${cwd}: ${err.message}`);
      finish(null);
    });
    child.on('exit', (code, signal) => {
      if (signal !== null && !timedOut) notes.push(`[devsup] clear command was killed by ${signal}`);
      timers.push(
        setTimeout(() => {
          if (groupAlive(child)) {
            notes.push('[devsup] clear command left background processes holding its output; killed them');
            killGroup(child, 'SIGKILL');
          }
        }, PIPE_GRACE_MS),
        // Killed processes close their pipes at once; this only guards against one that can't die.
        setTimeout(() => finish(code), PIPE_GRACE_MS + 1_000),
      );
    });
    child.on('close', (code) => {
      // Whatever ignored SIGTERM after a timeout must not outlive the restart it was meant to serve.
      if (timedOut) killGroup(child, 'SIGKILL');
      finish(code);
    });

    timers.push(
      setTimeout(() => {
        timedOut = true;
        notes.push(`[devsup] clear command timed out after ${timeoutMs} ms; stopped it`);
        killGroup(child, 'SIGTERM');
        timers.push(setTimeout(() => killGroup(child, 'SIGKILL'), killGraceMs));
      }, timeoutMs),
    );
  });
}
