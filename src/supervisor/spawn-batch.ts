import type { ProcessPort } from '../worker/port.js';

/**
 * The spawns of workers started together, issued back to back once every one of them is ready to
 * spawn. A spawn blocks this thread until its child has exec'd, and the more children are already
 * booting, the longer that takes (tens of milliseconds on two cores with twenty of them). What a
 * worker does before its spawn (the tree's look, the cache search) is a chain of small asynchronous
 * steps: interleaved with other workers' spawns, each step waits behind one, and the last workers
 * of a big launch spawned hundreds of milliseconds after the first. Held back until all of them
 * have arrived (or `maxWaitMs` after the first did), those steps run while nothing blocks.
 */
export class SpawnBatch {
  private readonly expected = new Set<string>();
  private readonly first = new Set<string>();
  private readonly queued: { name: string; go: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private heldAt = 0;
  /** The others' wait is over, only a leader is still waited for. */
  private lateLeader = false;

  /**
   * `maxWaitMs`: how long after the first arrival the others are waited for. A leader not yet
   * arrived is waited for until `leaderWaitMs` after hold(): on a busy machine its steps can take
   * longer than the others', and one spawned after the batch would start behind all of it.
   */
  constructor(
    private readonly maxWaitMs = 100,
    private readonly leaderWaitMs = 250,
  ) {}

  /**
   * The next spawn of each of these workers waits for the others' (see the class comment); those
   * in `first` (what other workers wait for) lead the batch.
   */
  hold(names: Iterable<string>, first: Iterable<string> = []): void {
    for (const n of names) this.expected.add(n);
    for (const n of first) this.first.add(n);
    this.heldAt = Date.now();
  }

  /** Whether spawns are being held. */
  get holding(): boolean {
    return this.expected.size > 0 || this.queued.length > 0;
  }

  /** `base` with its spawns going through the batch for worker `name`. */
  port(name: string, base: ProcessPort): ProcessPort {
    return { ...base, spawn: (spec) => this.spawn(name, () => base.spawn(spec)) };
  }

  private spawn<T>(name: string, run: () => Promise<T>): Promise<T> {
    if (!this.expected.delete(name)) return run();
    const out = new Promise<T>((resolve, reject) => this.queued.push({ name, go: () => void run().then(resolve, reject) }));
    if (this.expected.size === 0 || (this.lateLeader && !this.leaderMissing())) this.flush();
    else this.timer ??= setTimeout(() => this.due(), this.maxWaitMs);
    return out;
  }

  /** The wait for the others is over: flush, unless a leader is still on its way and may be waited for. */
  private due(): void {
    const left = this.heldAt + this.leaderWaitMs - Date.now();
    if (this.leaderMissing() && left > 0) {
      this.lateLeader = true;
      this.timer = setTimeout(() => this.due(), left);
      return;
    }
    this.flush();
  }

  private leaderMissing(): boolean {
    return [...this.first].some((n) => this.expected.has(n));
  }

  /** Spawns what waits, the leaders first, then in arrival order; whoever has not arrived yet spawns on arrival. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.lateLeader = false;
    this.expected.clear();
    const waiting = this.queued.splice(0);
    const lead = waiting.filter((q) => this.first.has(q.name));
    this.first.clear();
    for (const q of [...lead, ...waiting.filter((w) => !lead.includes(w))]) q.go();
  }
}
