import { parseClearSpec, presetsForCommand, isPythonCommand } from '../caches/presets.js';
import type { ResolvedConfig, ResolvedWorker } from '../config/load.js';
import { isAbsolute, join, relative, sep } from 'node:path';
import { stateDirOf } from '../state/paths.js';
import type { WorkerEntry } from './supervisor.js';

/** What `restart` in the config means for the worker's two triggers. */
const POLICY = {
  'on-change': { restartOnChange: true, onExit: 'wait' },
  'on-exit': { restartOnChange: true, onExit: 'restart' },
  never: { restartOnChange: false, onExit: 'wait' },
} as const;

/** Turns a validated config into what the supervisor runs. */
export function entriesFromConfig(config: ResolvedConfig, opts: { color: boolean }): WorkerEntry[] {
  return config.workers.map((w) => entryOf(w, config.dir, opts, config.file));
}

function entryOf(w: ResolvedWorker, dir: string, opts: { color: boolean }, configFile: string): WorkerEntry {
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
