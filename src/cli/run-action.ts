import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseClearSpec, presetsForCommand, isPythonCommand } from '../caches/presets.js';
import { Bus } from '../core/bus.js';
import { UsageError, errorMessage } from '../core/errors.js';
import { recordTaskRuns } from '../history/recorder.js';
import { Supervisor, type WorkerEntry } from '../supervisor/supervisor.js';
import { jsonView } from '../views/json.js';
import { plainView } from '../views/plain.js';
import type { RunOptions } from './run.js';
import { onShutdownSignals } from './signals.js';
import { packageVersion } from './version.js';

export async function runCommand(argv: string[], opts: RunOptions): Promise<number> {
  if (argv.length === 0) throw new UsageError('no command given; usage: devsup run [options] -- <command> [args...]');
  const cwd = process.cwd();
  const command: string[] | string = opts.shell ? argv.join(' ') : argv;
  const roots = (opts.watch ?? ['.']).map((p) => resolve(cwd, p));
  for (const [i, root] of roots.entries()) {
    if (!existsSync(root)) throw new UsageError(`watch path does not exist: ${opts.watch?.[i] ?? root}`);
  }
  const explicit = opts.clear === false ? undefined : opts.clear;
  const { presets, globs } = explicit ? parseClearSpec(explicit) : { presets: presetsForCommand(command), globs: [] };
  const stdinOpen = !process.stdin.destroyed;

  const entry: WorkerEntry = {
    spec: {
      name: 'main',
      command,
      cwd,
      env: {},
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
      output: opts.json ? 'pipe' : 'inherit',
    },
    // Whatever devsup clears must not look like a source change, or clearing would restart forever.
    watch: { roots, ignore: [...(opts.ignore ?? []), ...globs], ext: opts.ext, settleMs: opts.settle, poll: opts.poll, backend: opts.backend },
  };

  const bus = new Bus();
  bus.on(opts.json ? jsonView(process.stdout) : plainView(process.stderr, { showWorker: false, verbose: opts.verbose }));

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

  const history = recordTaskRuns(sup, entry.spec.stateDir, {
    onError: (err) => bus.emit({ type: 'warning', message: `history not recorded: ${errorMessage(err)}` }),
  });
  const detachSignals = onShutdownSignals((signal, code) => {
    bus.emit({ type: 'shutdown', signal });
    void sup.shutdown().then(() => finish(code));
  });
  const detachStdin = stdinOpen ? forwardStdin(sup) : () => undefined;

  if (opts.json) {
    // JSON owns stdout; the child's output goes to stderr untouched.
    bus.on((e) => {
      if (e.type !== 'worker-started') return;
      const w = sup.worker('main');
      const s = w?.current;
      if (s?.kind === 'running') {
        s.child.stdout?.pipe(process.stderr, { end: false });
        s.child.stderr?.pipe(process.stderr, { end: false });
      }
    });
  }

  try {
    await sup.startAll();
  } catch (err) {
    await sup.shutdown();
    detachSignals();
    detachStdin();
    throw err;
  }
  const code = await finished;
  detachSignals();
  detachStdin();
  await history.idle();
  history();
  return quitCode ?? code;
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
