import { resolve } from 'node:path';
import { startOrder } from './graph.js';
import { BUILTIN_DEFAULTS } from './fields.js';
import type { ConfigInput, DefaultsInput, WorkerInput } from './schema.js';
import type { ResolvedWorker } from './types.js';

/** Fills every field and sorts into start order. Only for configs that passed every check. */
export function resolveWorkers(config: ConfigInput, dir: string): ResolvedWorker[] {
  const defaults = config.defaults ?? {};
  const workers = new Map(config.workers.map((w) => [w.name, resolveWorker(w, defaults, dir)]));
  const deps = new Map([...workers].map(([name, w]) => [name, w.dependsOn]));
  return startOrder([...workers.keys()], deps).map((name) => workers.get(name)!);
}

export function resolveWorker(w: WorkerInput, d: DefaultsInput, dir: string): ResolvedWorker {
  const cwd = resolve(dir, w.cwd ?? d.cwd ?? BUILTIN_DEFAULTS.cwd);
  const clear = w.clear ?? d.clear ?? BUILTIN_DEFAULTS.clear;
  return {
    name: w.name,
    cmd: typeof w.cmd === 'string' ? w.cmd : [...w.cmd],
    cwd,
    env: { ...d.env, ...w.env },
    envFile: list(w.envFile ?? d.envFile ?? BUILTIN_DEFAULTS.envFile).map((p) => resolve(cwd, p)),
    watch: (w.watch ?? d.watch ?? BUILTIN_DEFAULTS.watch).map((p) => resolve(cwd, p)),
    ignore: [...(w.ignore ?? d.ignore ?? BUILTIN_DEFAULTS.ignore)],
    ext: (w.ext ?? d.ext ?? BUILTIN_DEFAULTS.ext).map((e) => e.replace(/^\.+/, '')),
    clear: typeof clear === 'string' || clear === false ? clear : [...clear],
    clearCmd: w.clearCmd ?? d.clearCmd ?? BUILTIN_DEFAULTS.clearCmd,
    settle: w.settle ?? d.settle ?? BUILTIN_DEFAULTS.settle,
    grace: w.grace ?? d.grace ?? BUILTIN_DEFAULTS.grace,
    signal: w.signal ?? d.signal ?? BUILTIN_DEFAULTS.signal,
    kind: w.kind ?? d.kind ?? BUILTIN_DEFAULTS.kind,
    restart: w.restart ?? d.restart ?? BUILTIN_DEFAULTS.restart,
    dependsOn: [...new Set(w.dependsOn ?? BUILTIN_DEFAULTS.dependsOn)],
    ready: w.ready ? { ...w.ready } : BUILTIN_DEFAULTS.ready,
    poll: w.poll ?? d.poll ?? BUILTIN_DEFAULTS.poll,
    repeat: w.repeat ?? d.repeat ?? BUILTIN_DEFAULTS.repeat,
    junit: w.junit === undefined ? null : resolve(cwd, w.junit),
  };
}

function list(v: string | readonly string[]): string[] {
  return typeof v === 'string' ? [v] : [...v];
}
