import { refuseClearOfSources } from '../caches/guard.js';
import { parseClearSpec, presetsForCommand, isPythonCommand } from '../caches/presets.js';
import { DevsupError } from '../core/errors.js';
import type { ResolvedConfig, ResolvedWorker } from '../config/load.js';
import { isAbsolute, join, relative, sep } from 'node:path';
import { stateDirOf } from '../state/paths.js';
import type { TreeOptions } from '../watch/tree.js';
import { looksOneShot } from '../worker/one-shot.js';
import type { WorkerEntry } from './supervisor.js';
import { learnedPortsPath } from '../worker/learned-ready.js';

/** What `restart` in the config means for the worker's two triggers. */
const POLICY = {
  'on-change': { restartOnChange: true, onExit: 'wait' },
  'on-exit': { restartOnChange: true, onExit: 'restart' },
  never: { restartOnChange: false, onExit: 'wait' },
} as const;

/** Turns a validated config into what the supervisor runs. */
export function entriesFromConfig(config: ResolvedConfig, opts: { color: boolean; name?: string }): WorkerEntry[] {
  return config.workers.map((w) => entryOf(w, config.dir, opts, config.file));
}

function entryOf(w: ResolvedWorker, dir: string, opts: { color: boolean; name?: string }, configFile: string): WorkerEntry {
  const clear = w.clear === false ? { presets: [], globs: [] } : w.clear === 'auto' ? { presets: presetsForCommand(w.cmd), globs: [] } : parseClearSpec(w.clear);
  const policy = POLICY[w.restart];
  const env: Record<string, string | undefined> = { ...w.env };
  // Output goes through a pipe; tools that honour FORCE_COLOR keep their colours for the dashboard.
  if (opts.color && env.FORCE_COLOR === undefined && env.NO_COLOR === undefined) env.FORCE_COLOR = '1';
  return {
    spec: {
      name: w.name,
      command: w.cmd,
      cwd: w.cwd,
      env,
      envFiles: w.envFile,
      kind: w.kind,
      onExit: policy.onExit,
      restartOnChange: policy.restartOnChange,
      signal: w.signal,
      graceMs: w.grace,
      clear: { enabled: w.clear !== false, roots: w.watch, presets: clear.presets, globs: clear.globs, command: w.clearCmd ?? undefined },
      python: isPythonCommand(w.cmd),
      stateDir: stateDirOf(dir),
      stdin: 'ignore',
      output: 'pipe',
      repeat: w.repeat,
      ready: w.ready === null ? undefined : 'log' in w.ready ? { log: new RegExp(w.ready.log) } : { port: w.ready.port, host: w.ready.host ?? '127.0.0.1' },
      portsFile: learnedPortsPath(stateDirOf(dir), opts.name ?? 'default', w.name),
    },
    watch: {
      // An env file is watched by itself (it is usually gitignored): its edit restarts the worker.
      roots: [...w.watch, ...w.envFile],
      ignore: [...w.ignore, ...clear.globs, ...configIgnore(configFile, w.watch)],
      ext: w.ext.length > 0 ? w.ext : undefined,
      settleMs: w.settle,
      poll: w.poll,
    },
    dependsOn: w.dependsOn,
  };
}

/**
 * The config file is applied by `up` itself when it changes: as a source file it would also restart
 * every worker watching its directory, even for an edit that is not valid and is not applied.
 */
function configIgnore(file: string, roots: string[]): string[] {
  return roots.flatMap((root) => {
    const rel = relative(root, file);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? [`/${rel.split(sep).join('/')}`] : [];
  });
}

/** What `devsup run` was given, already parsed. */
export interface RunEntryOptions {
  command: string[] | string;
  cwd: string;
  /** Absolute roots to watch. */
  roots: string[];
  ignore: string[];
  ext?: string[];
  settleMs: number;
  poll?: boolean;
  backend?: TreeOptions['backend'];
  signal: NodeJS.Signals;
  graceMs: number;
  /** Presets and globs to clear; `false`: clear nothing; undefined: what the command suggests. */
  clear: string[] | false | undefined;
  clearCmd?: string;
  onExit: 'wait' | 'restart' | 'quit';
  ready?: RegExp;
  readyPort?: number;
  /** The user's input goes to the child. */
  stdin: boolean;
  /** Output read by devsup (events, a ready line) rather than left on the terminal. */
  piped: boolean;
  env: Record<string, string | undefined>;
  /** `.env` files (absolute), read before every start and watched by themselves. */
  envFiles?: string[];
  /** Files watched whatever the ignore rules say: those the command names (`node dist/server.js`). */
  alsoWatch?: string[];
  /** Where the ports learned for readiness are kept. */
  portsFile?: string;
}

/**
 * The one worker of `devsup run`, named `main`. A command run with `--on-exit wait` has its own exit
 * recorded as a result: once a generation exits by itself without a readiness signal of its own it
 * is one-shot, judged like a task (see the machine's `oneShot`); a known test runner or checker is
 * one from the start.
 */
export function runEntry(o: RunEntryOptions): WorkerEntry {
  const { presets, globs } = o.clear ? parseClearSpec(o.clear) : o.clear === false ? { presets: [], globs: [] } : { presets: presetsForCommand(o.command), globs: [] };
  return {
    spec: {
      name: 'main',
      command: o.command,
      cwd: o.cwd,
      env: o.env,
      envFiles: o.envFiles ?? [],
      kind: 'service',
      onExit: o.onExit,
      exitIsResult: o.onExit === 'wait',
      oneShot: o.onExit === 'wait' && !o.ready && !o.readyPort && looksOneShot(o.command),
      restartOnChange: true,
      signal: o.signal,
      graceMs: o.graceMs,
      clear: { enabled: o.clear !== false, roots: o.roots, presets, globs, command: o.clearCmd },
      python: isPythonCommand(o.command),
      stateDir: stateDirOf(o.cwd),
      stdin: o.stdin ? 'pipe' : 'ignore',
      output: o.piped ? 'pipe' : 'inherit',
      ready: o.ready ? { log: o.ready } : o.readyPort ? { port: o.readyPort, host: '127.0.0.1' } : undefined,
      portsFile: o.portsFile,
    },
    // Whatever devsup clears must not look like a source change, or clearing would restart forever.
    // Env files are watched by themselves (they are usually gitignored): an edit restarts the child.
    watch: { roots: [...o.roots, ...(o.alsoWatch ?? []), ...(o.envFiles ?? [])], ignore: [...o.ignore, ...globs], ext: o.ext, settleMs: o.settleMs, poll: o.poll, backend: o.backend },
  };
}

/** Each worker's clear globs against its sources; the first that matches some is refused (exit 2). */
export async function checkClearGlobs(entries: readonly WorkerEntry[], allowed: boolean): Promise<void> {
  for (const e of entries) {
    const { roots, globs } = e.spec.clear;
    const ignore = (e.watch.ignore ?? []).filter((g) => !globs.includes(g));
    await refuseClearOfSources({ roots, globs, ignore, ext: e.watch.ext }, allowed, '--clear-sources').catch((err: unknown) => {
      throw err instanceof DevsupError ? new DevsupError(`worker ${e.spec.name}: ${err.message}`, err.code, err.exitCode) : err;
    });
  }
}
