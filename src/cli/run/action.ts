import { existsSync, statSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { refuseClearOfSources } from '../../caches/guard.js';
import { parseClearSpec } from '../../caches/presets.js';
import { Bus } from '../../core/bus.js';
import { UsageError } from '../../core/errors.js';
import { stateDirOf } from '../../state/paths.js';
import type { SupervisorApi } from '../../supervisor/api.js';
import { runEntry } from '../../supervisor/entries.js';
import { Supervisor } from '../../supervisor/supervisor.js';
import { ownOutputFiles } from '../../watch/own-output.js';
import { learnedPortsPath } from '../../worker/learned-ready.js';
import { commandFiles, describeExclusion, namedButIgnored } from '../../watch/explain.js';
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
  const envFiles = (opts.envFile ?? []).map((p) => resolve(cwd, p));
  for (const [i, file] of envFiles.entries()) {
    if (!existsSync(file) || statSync(file).isDirectory()) throw new UsageError(`env file does not exist: ${opts.envFile?.[i] ?? file}`);
    // A named pipe would block every start until someone writes to it, and Ctrl-C with it.
    if (!statSync(file).isFile()) throw new UsageError(`env file is not a regular file (a named pipe or a device): ${opts.envFile?.[i] ?? file}`);
  }
  // The file the command runs is watched whatever the ignore rules say (`node dist/server.js`).
  const words = opts.shell ? argv.flatMap((w) => w.split(/\s+/)) : argv;
  const named = namedButIgnored(commandFiles(words, cwd), { roots, ignore: opts.ignore, ext: opts.ext });
  const explicit = opts.clear === false ? undefined : opts.clear;
  const { globs } = explicit ? parseClearSpec(explicit) : { globs: [] };
  await refuseClearOfSources({ roots, globs, ignore: opts.ignore, ext: opts.ext }, opts.clearSources === true, '--clear-sources');
  const stdinOpen = !process.stdin.destroyed;
  // Reading the output (for JSON, or to spot a ready line) means a pipe instead of the terminal.
  const piped = Boolean(opts.json || opts.ready);
  const env: Record<string, string | undefined> = {};
  if (piped && process.stdout.isTTY && process.env.NO_COLOR === undefined && process.env.FORCE_COLOR === undefined) env.FORCE_COLOR = '1';
  const entry = runEntry({
    command,
    cwd,
    roots,
    ignore: opts.ignore ?? [],
    ext: opts.ext,
    settleMs: opts.settle,
    poll: opts.poll,
    backend: opts.backend,
    signal: opts.signal,
    graceMs: opts.grace,
    clear: opts.clear,
    clearCmd: opts.clearCmd,
    onExit: opts.onExit,
    ready: opts.ready,
    readyPort: opts.readyPort,
    stdin: stdinOpen,
    piped,
    env,
    envFiles,
    alsoWatch: named.map((n) => n.path),
    portsFile: learnedPortsPath(stateDirOf(cwd), opts.name, 'main'),
  });

  const bus = new Bus();
  // With --json the child's output goes to stderr as it is, so it is not repeated as events (nor
  // is its end).
  bus.on(opts.json ? jsonView(process.stdout, { skip: ['output', 'output-ended'] }) : plainView(process.stderr, { showWorker: false, verbose: opts.verbose }));

  let quitCode: number | undefined;
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const sup = new Supervisor(bus, [entry], {
    root: cwd,
    version: packageVersion(),
    leaveOut: ownOutputFiles(),
    // The child's bytes pass through untouched; with --json, stdout belongs to the events.
    passThrough: piped ? { stdout: opts.json ? process.stderr : process.stdout, stderr: process.stderr } : undefined,
    onQuit: (code) => {
      quitCode = code;
      void sup.shutdown().then(() => finish(code));
    },
  });

  for (const n of named) {
    bus.emit({ type: 'note', worker: 'main', message: `watching ${relative(cwd, n.path)} although ${describeExclusion(n.why, cwd)}: the command runs it` });
  }
  const session = await openSession(bus, sup, {
    root: cwd,
    name: opts.name,
    stateDir: entry.spec.stateDir,
    onRootGone: () => void sup.shutdown().then(() => finish(1)),
  });
  const detachSignals = onShutdownSignals(
    (signal, code) => {
      bus.emit({ type: 'shutdown', signal });
      void sup.shutdown().then(() => finish(code));
    },
    () => void session.forceKill(),
  );
  const detachStdin = stdinOpen ? forwardStdin(sup) : () => undefined;

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
function forwardStdin(sup: SupervisorApi): () => void {
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity, terminal: false });
  rl.on('line', (line) => {
    if (line.trim() === 'rs') {
      void sup.restart(['main']);
      return;
    }
    sup.writeInput('main', `${line}\n`);
  });
  rl.on('close', () => sup.endInput('main'));
  return () => {
    rl.close();
    process.stdin.unref?.();
  };
}
