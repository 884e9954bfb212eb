import { PassThrough } from 'node:stream';
import type { SpawnSpec } from '../../src/process/spawn.js';
import { SpawnError } from '../../src/process/spawn.js';
import type { ExitRecord, ProcId, StopResult } from '../../src/process/types.js';
import type { Child, ProcessPort, StopRequest } from '../../src/worker/port.js';

/** A child made of promises: it exits when told to, or when a stop reaches it, or never. */
export class FakeChild implements Child {
  readonly id: ProcId;
  readonly token: string;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly stdin = new PassThrough();
  readonly exited: Promise<ExitRecord>;
  private settle!: (r: ExitRecord) => void;
  done = false;

  constructor(
    readonly pid: number,
    readonly spec: SpawnSpec,
    /** Whether a stop signal ends it (a child that ignores every signal keeps running). */
    readonly obeys = true,
  ) {
    this.id = { pid, start: `t${pid}` };
    this.token = `token-${pid}`;
    this.exited = new Promise((r) => (this.settle = r));
  }

  /**
   * With a value, the exit is seen first and these lines reach the pipe `drainMs` later, then the
   * output ends: what a child printing on its way out looks like when its exit is heard first.
   */
  lastWords: { lines: string[]; drainMs: number } | undefined;

  exit(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.done) return;
    this.done = true;
    const last = this.lastWords;
    const end = (): void => {
      for (const line of last?.lines ?? []) this.print(line);
      this.stdout.end();
      this.stderr.end();
    };
    if (last) setTimeout(end, last.drainMs);
    else end();
    this.settle({ code, signal, durationMs: 5 });
  }

  print(line: string): void {
    this.stdout.write(`${line}\n`);
  }
}

type StopMode = 'ok' | 'throw' | 'hang';

/** Records every call; spawns FakeChildren; stops as `stopMode` says. */
export class FakePort implements ProcessPort {
  readonly calls: string[] = [];
  readonly children: FakeChild[] = [];
  stopMode: StopMode = 'ok';
  /** Calls to stopTree that throw before stops work again (with stopMode 'throw'). */
  throwsLeft = Infinity;
  spawnError: SpawnError | undefined;
  /** Children spawned from now on ignore signals. */
  stubborn = false;
  private nextPid = 1000;

  async spawn(spec: SpawnSpec): Promise<Child> {
    this.calls.push(`spawn ${spec.env.DEVSUP_GENERATION ?? '?'}`);
    if (this.spawnError) throw this.spawnError;
    const c = new FakeChild(this.nextPid++, spec, !this.stubborn);
    this.children.push(c);
    return c;
  }

  async stopTree(root: ProcId, req: StopRequest): Promise<StopResult> {
    this.calls.push(`stop ${root.pid}`);
    if (this.stopMode === 'throw' && this.throwsLeft-- > 0) {
      throw Object.assign(new Error("EMFILE: too many open files, open '/proc/1/stat'"), { code: 'EMFILE' });
    }
    if (this.stopMode === 'hang') return new Promise(() => undefined);
    const c = this.children.find((x) => x.pid === root.pid);
    if (c && c.obeys) c.exit(null, req.signal);
    return { signal: req.signal, forced: false, gaveUp: c !== undefined && !c.obeys, durationMs: 3, treeSize: c ? 1 : 0, survivors: c && !c.obeys ? [c.id] : [], signalled: c ? [c.id] : [] };
  }

  async captureTree(): Promise<ProcId[]> {
    return [];
  }

  killGroup(pgid: number): void {
    this.calls.push(`killGroup ${pgid}`);
    this.children.find((x) => x.pid === pgid)?.exit(null, 'SIGKILL');
  }

  get last(): FakeChild {
    const c = this.children.at(-1);
    if (!c) throw new Error('nothing spawned');
    return c;
  }
}
