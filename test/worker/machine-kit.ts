import type { DevsupEvent } from '../../src/core/events.js';
import type { ExitRecord } from '../../src/process/types.js';
import type { Snapshot } from '../../src/watch/snapshot.js';
import { INITIAL, step, type Effect, type Input, type MachineConfig, type MachineState } from '../../src/worker/machine.js';
import type { Child } from '../../src/worker/port.js';
import type { WorkerSpec } from '../../src/worker/spec.js';

export function spec(over: Partial<WorkerSpec> = {}): WorkerSpec {
  return specIn('/p', ['node', 'app.js'], over);
}

/** A service run in `root`, watching it, with its state in `root/.devsup` and nothing cleared. */
export function specIn(root: string, command: string[], over: Partial<WorkerSpec> = {}): WorkerSpec {
  return {
    name: 'w',
    command,
    cwd: root,
    env: {},
    kind: 'service',
    onExit: 'wait',
    restartOnChange: true,
    signal: 'SIGTERM',
    graceMs: 3000,
    clear: { enabled: false, roots: [root], presets: [], globs: [] },
    python: false,
    stateDir: `${root}/.devsup`,
    stdin: 'ignore',
    output: 'pipe',
    ...over,
  };
}

export function config(over: Partial<WorkerSpec> = {}, extra: Partial<MachineConfig> = {}): MachineConfig {
  const s = spec(over);
  return { spec: s, gated: false, readyAtSpawn: s.kind === 'service' && !s.ready, ...extra };
}

/** A snapshot with one file per entry, `path -> content`, and the given code id. */
export function snap(codeId: string, seq: number, files: Record<string, string> = { '/p/app.js': codeId }, provisional = false): Snapshot {
  // A state is its content hash first; padding makes two contents differ within the compared part.
  const map = new Map(Object.entries(files).map(([p, c]) => [p, c.padEnd(27, '.')]));
  return { seq, codeId, files: map, ...(provisional ? { provisional: true as const } : {}) };
}

export function child(pid: number): Child {
  return { pid, id: { pid, start: `t${pid}` }, token: `token-${pid}`, exited: new Promise<ExitRecord>(() => undefined) };
}

export const exit = (code: number | null, durationMs = 50, signal: NodeJS.Signals | null = null): ExitRecord => ({ code, signal, durationMs });

export const stopResult = (over: Partial<{ forced: boolean; gaveUp: boolean; treeSize: number; durationMs: number }> = {}) => ({
  signal: 'SIGTERM' as NodeJS.Signals,
  forced: false,
  gaveUp: false,
  durationMs: 12,
  treeSize: 1,
  survivors: [],
  signalled: [],
  ...over,
});

/** Feeds inputs one by one, keeping every effect and event. */
export class Drive {
  state: MachineState = INITIAL;
  effects: Effect[] = [];
  now = 1_000_000;

  constructor(readonly cfg: MachineConfig) {}

  feed(...inputs: Input[]): this {
    for (const i of inputs) {
      const r = step(this.cfg, this.state, i, this.now);
      this.state = r.next;
      this.effects.push(...r.effects);
      this.now += 10;
    }
    return this;
  }

  /** Effects since the last call. */
  take(): Effect[] {
    const e = this.effects;
    this.effects = [];
    return e;
  }

  events(effects: Effect[] = this.effects): DevsupEvent[] {
    return effects.flatMap((e) => (e.type === 'emit' ? [e.event] : []));
  }

  get phase(): MachineState['phase'] {
    return this.state.phase;
  }

  get gen(): number {
    return this.state.gen;
  }

  /** From idle to running generation `gen` on `on`. */
  run(on: Snapshot, pid = 100 + this.state.gen + 1): Child {
    const c = child(pid);
    if (this.phase.kind !== 'starting') this.feed({ type: 'start', reason: 'initial' });
    const gen = this.state.gen;
    if (this.phase.kind === 'starting' && this.phase.step === 'sweep') {
      this.feed({ type: 'stopped', gen, attempt: 0, result: stopResult() });
    }
    this.feed({ type: 'cleared', gen, env: {}, count: 0, bytes: 0, snapshot: on, searchAfter: false });
    this.feed({ type: 'spawned', gen, child: c });
    return c;
  }
}

export function types(effects: Effect[]): string[] {
  return effects.map((e) => (e.type === 'emit' ? `emit:${e.event.type}` : e.type));
}
