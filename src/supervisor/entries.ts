import { parseClearSpec, presetsForCommand, isPythonCommand } from '../caches/presets.js';
import type { ResolvedConfig, ResolvedWorker } from '../config/load.js';
import { join } from 'node:path';
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
  return config.workers.map((w) => entryOf(w, config.dir, opts));
}

function entryOf(w: ResolvedWorker, dir: string, opts: { color: boolean; name?: string }): WorkerEntry {
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
      kind: w.kind,
      onExit: policy.onExit,
      restartOnChange: policy.restartOnChange,
      signal: w.signal,
      graceMs: w.grace,
      clear: { enabled: w.clear !== false, roots: w.watch, presets: clear.presets, globs: clear.globs, command: w.clearCmd ?? undefined },
      python: isPythonCommand(w.cmd),
      stateDir: join(dir, '.devsup'),
      stdin: 'ignore',
      output: 'pipe',
      repeat: w.repeat,
      ready: w.ready === null ? undefined : 'log' in w.ready ? { log: new RegExp(w.ready.log) } : { port: w.ready.port, host: w.ready.host ?? '127.0.0.1' },
      portsFile: learnedPortsPath(join(dir, '.devsup'), opts.name ?? 'default', w.name),
    },
    watch: {
      roots: w.watch,
      ignore: [...w.ignore, ...clear.globs],
      ext: w.ext.length > 0 ? w.ext : undefined,
      settleMs: w.settle,
      poll: w.poll,
    },
    dependsOn: w.dependsOn,
  };
}
