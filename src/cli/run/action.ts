import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { refuseClearOfSources } from '../../caches/guard.js';
import { parseClearSpec, presetsForCommand, isPythonCommand } from '../../caches/presets.js';
import { Bus } from '../../core/bus.js';
import { UsageError } from '../../core/errors.js';
import { Supervisor, type WorkerEntry } from '../../supervisor/supervisor.js';
import { jsonView } from '../../views/json.js';
import { plainView } from '../../views/plain.js';
import type { RunOptions } from './command.js';
import { openSession } from '../session.js';
import { onShutdownSignals } from '../signals.js';
import { packageVersion } from '../version.js';

export async function runCommand(argv: string[], opts: RunOptions): Promise<number> {
  const usage = 'usage: devsup run [options] -- <command> [args...]';
  if (argv.length === 0) throw new UsageError(`no command given; ${usage}`);
  const cwd = process.cwd();
  const command: string[] | string = opts.shell ? argv.join(' ') : argv;
  // An empty program name would leave a supervisor waiting on a child that can never start.
  if ((typeof command === 'string' ? command : command[0]!).trim() === '') throw new UsageError(`the command is empty; ${usage}`);
  if (opts.watch?.some((p) => p.trim() === '')) throw new UsageError('--watch needs a path, got an empty one (use . for the current directory)');
  const roots = (opts.watch ?? ['.']).map((p) => resolve(cwd, p));
  for (const [i, root] of roots.entries()) {
    if (!existsSync(root)) throw new UsageError(`watch path does not exist: ${opts.watch?.[i] ?? root}`);
  }
  const explicit = opts.clear === false ? undefined : opts.clear;
  const { presets, globs } = explicit ? parseClearSpec(explicit) : { presets: presetsForCommand(command), globs: [] };
  await refuseClearOfSources({ roots, globs, ignore: opts.ignore, ext: opts.ext }, opts.clearSources === true, '--clear-sources');
  const stdinOpen = !process.stdin.destroyed;
  // Reading the output (for JSON, or to spot a ready line) means a pipe instead of the terminal.
  const piped = Boolean(opts.json || opts.ready);
  const env: Record<string, string | undefined> = {};
  if (piped && process.stdout.isTTY && process.env.NO_COLOR === undefined && process.env.FORCE_COLOR === undefined) env.FORCE_COLOR = '1';

  const entry: WorkerEntry = {
    spec: {
      name: 'main',
      command,
      cwd,
      env,
      kind: 'service',
      onExit: opts.onExit,
      exitIsResult: opts.onExit === 'wait',
      restartOnChange: true,
      signal: opts.signal,
      graceMs: opts.grace,
      clear: { enabled: opts.clear !== false, roots, presets, globs, command: opts.clearCmd },
      python: isPythonCommand(command),
      stateDir: resolve(cwd, '.devsup'),
      stdin: stdinOpen ? 'pipe' : 'ignore',
      output: piped ? 'pipe' : 'inherit',
      ready: opts.ready ? { log: opts.ready } : opts.readyPort ? { port: opts.readyPort, host: '127.0.0.1' } : undefined,
    },
    // Whatever devsup clears must not look like a source change, or clearing would restart forever.
    watch: { roots, ignore: [...(opts.ignore ?? []), ...globs], ext: opts.ext, settleMs: opts.settle, poll: opts.poll, backend: opts.backend },
  };

  const bus = new Bus();
  // With --json the child's output goes to stderr as it is, so it is not repeated as events.
  bus.on(opts.json ? jsonView(process.stdout, { skip: ['output'] }) : plainView(process.stderr, { showWorker: false, verbose: opts.verbose }));

  let quitCode: number | undefined;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const sup = new Supervisor(bus, [entry], {
    root: cwd,
    version: packageVersion(),
    onQuit: (code) => {
      quitCode = code;
      void sup.shutdown().then(() => finish(code));
    },
  });

  const session = await openSession(bus, sup, {
    root: cwd,
    name: opts.name,
    stateDir: entry.spec.stateDir,
    onRootGone: () => void sup.shutdown().then(() => finish(1)),
  });
  const detachSignals = onShutdownSignals((signal, code) => {
    bus.emit({ type: 'shutdown', signal });
    void sup.shutdown().then(() => finish(code));
  });
  const detachStdin = stdinOpen ? forwardStdin(sup) : () => undefined;

  if (piped) {
    // The child's bytes pass through untouched; with --json, stdout belongs to the events.
    const out = opts.json ? process.stderr : process.stdout;
    bus.on((e) => {
      if (e.type !== 'worker-started') return;
      const s = sup.worker('main')?.current;
      if (s?.kind === 'running') {
        s.child.stdout?.pipe(out, { end: false });
        s.child.stderr?.pipe(process.stderr, { end: false });
      }
    });
  }

  try {
    await sup.startAll();
    const code = await finished;
    return quitCode ?? code;
  } finally {
    detachSignals();
    detachStdin();
    await sup.shutdown();
    await session.close();
  }
}

/** `rs` + Enter restarts by hand; every other line goes to the child. */
function forwardStdin(sup: Supervisor): () => void {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  rl.on('line', (line) => {
    const w = sup.worker('main');
    if (!w) return;
    if (line.trim() === 'rs') {
      void w.restart();
      return;
    }
    w.stdin?.write(`${line}\n`);
  });
  rl.on('close', () => sup.worker('main')?.stdin?.end());
  return () => {
    rl.close();
    process.stdin.unref?.();
  };
}
