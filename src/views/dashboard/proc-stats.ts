import { clockTicks, idKey, residentBytes, type ProcStat } from '../../process/proc-start.js';
import { readStatTable } from '../../process/table.js';

/** CPU and memory of one worker's whole process tree. */
export interface TreeStats {
  /** Percent of one core over the last interval (can exceed 100); null until two samples exist. */
  cpu: number | null;
  /** Sum of resident memory over the tree, in bytes (shared pages count once per process). */
  rss: number;
  procs: number;
}

export const procStatsSupported = process.platform === 'linux';

/** Every pid reachable from `root` through parent links, root first. */
export function descendants(root: number, childrenOf: Map<number, number[]>): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const c of childrenOf.get(out[i]!) ?? []) out.push(c);
  }
  return out;
}

/**
 * Samples /proc on a timer, away from rendering: one scan of every process's parent link per
 * interval, shared by all workers, then the trees under the pids it was asked about.
 */
export class ProcSampler {
  private roots: number[] = [];
  private stats = new Map<number, TreeStats>();
  private prev = new Map<string, number>();
  private prevAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(private readonly opts: { intervalMs?: number; onSample?: () => void } = {}) {}

  /** The pids whose trees the next samples cover. */
  watch(pids: number[]): void {
    this.roots = [...new Set(pids.filter((p) => p > 0))];
  }

  get(pid: number | null): TreeStats | undefined {
    return pid === null ? undefined : this.stats.get(pid);
  }

  start(): void {
    if (!procStatsSupported || this.timer || this.stopped) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.opts.intervalMs ?? 1500);
    // A sampler alone must not keep the process alive.
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One sample now; overlapping calls are skipped rather than queued. */
  async sample(): Promise<void> {
    if (this.running || !procStatsSupported) return;
    this.running = true;
    try {
      await this.sampleOnce();
      if (!this.stopped) this.opts.onSample?.();
    } catch {
      // /proc vanishing under us (containers, races) only costs one sample.
    } finally {
      this.running = false;
    }
  }

  private async sampleOnce(): Promise<void> {
    const table = new Map<number, ProcStat>();
    for (const s of await readStatTable()) table.set(s.pid, s);
    const now = performance.now();
    const children = new Map<number, number[]>();
    // Every process is remembered, not only tree members, so one that joins a tree later (a new
    // root, a reparented child) is not mistaken for one born within the interval.
    const next = new Map<string, number>();
    for (const [pid, e] of table) {
      next.set(idKey({ pid, start: e.startTicks }), e.cpuTicks);
      const list = children.get(e.ppid);
      if (list) list.push(pid);
      else children.set(e.ppid, [pid]);
    }
    const elapsedS = this.prevAt > 0 ? (now - this.prevAt) / 1000 : 0;
    const stats = new Map<number, TreeStats>();
    for (const root of this.roots) {
      if (!table.has(root)) continue;
      const tree = descendants(root, children);
      let delta = 0;
      let rss = 0;
      for (const pid of tree) {
        const e = table.get(pid)!;
        const before = this.prev.get(idKey({ pid, start: e.startTicks }));
        // A process born since the last sample spent all its ticks within the interval.
        delta += before === undefined ? (this.prevAt > 0 ? e.cpuTicks : 0) : Math.max(0, e.cpuTicks - before);
        rss += residentBytes(pid) ?? 0;
      }
      const cpu = elapsedS > 0 ? (delta / clockTicks() / elapsedS) * 100 : null;
      stats.set(root, { cpu, rss, procs: tree.length });
    }
    // Swapped in whole, so a render between two awaits never sees half a sample.
    this.stats = stats;
    this.prev = next;
    this.prevAt = now;
  }
}
