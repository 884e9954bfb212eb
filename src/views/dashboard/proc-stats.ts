import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';

/** CPU and memory of one worker's whole process tree. */
export interface TreeStats {
  /** Percent of one core over the last interval (can exceed 100); null until two samples exist. */
  cpu: number | null;
  /** Sum of resident memory over the tree, in bytes (shared pages count once per process). */
  rss: number;
  procs: number;
}

interface ProcEntry {
  ppid: number;
  /** utime + stime, in clock ticks. */
  ticks: number;
  /** Start time in ticks since boot: tells a reused pid from the process seen before. */
  start: number;
}

export const procStatsSupported = process.platform === 'linux';

/** Parses the fields after the command name, which may itself hold spaces and parentheses. */
export function parseStat(text: string): ProcEntry | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const f = text.slice(close + 2).split(' ');
  // f[0] is field 3 (state) of proc(5): ppid is field 4, utime 14, stime 15, starttime 22.
  const ppid = Number(f[1]);
  const ticks = Number(f[11]) + Number(f[12]);
  const start = Number(f[19]);
  if (!Number.isFinite(ppid) || !Number.isFinite(ticks)) return null;
  return { ppid, ticks, start };
}

/** Every pid reachable from `root` through parent links, root first. */
export function descendants(root: number, childrenOf: Map<number, number[]>): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) {
    for (const c of childrenOf.get(out[i]!) ?? []) out.push(c);
  }
  return out;
}

function getconf(name: string, fallback: number): Promise<number> {
  return new Promise((resolve) => {
    execFile('getconf', [name], { timeout: 2000 }, (err, stdout) => {
      const n = Number(String(stdout).trim());
      resolve(!err && n > 0 ? n : fallback);
    });
  });
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
  private clkTck = 100;
  private pageSize = 4096;
  private readonly ready: Promise<void>;

  constructor(
    private readonly opts: { intervalMs?: number; onSample?: () => void; procRoot?: string } = {},
  ) {
    this.ready = procStatsSupported
      ? Promise.all([getconf('CLK_TCK', 100), getconf('PAGESIZE', 4096)]).then(([t, p]) => {
          this.clkTck = t;
          this.pageSize = p;
        })
      : Promise.resolve();
  }

  private get proc(): string {
    return this.opts.procRoot ?? '/proc';
  }

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
      await this.ready;
      await this.sampleOnce();
      if (!this.stopped) this.opts.onSample?.();
    } catch {
      // /proc vanishing under us (containers, races) only costs one sample.
    } finally {
      this.running = false;
    }
  }

  private async sampleOnce(): Promise<void> {
    const names = await readdir(this.proc);
    const table = new Map<number, ProcEntry>();
    await Promise.all(
      names.map(async (name) => {
        const c = name.charCodeAt(0);
        if (c < 48 || c > 57) return;
        const text = await readFile(`${this.proc}/${name}/stat`, 'utf8').catch(() => '');
        const e = text ? parseStat(text) : null;
        if (e) table.set(Number(name), e);
      }),
    );
    const now = performance.now();
    const children = new Map<number, number[]>();
    // Every process is remembered, not only tree members, so one that joins a tree later (a new
    // root, a reparented child) is not mistaken for one born within the interval.
    const next = new Map<string, number>();
    for (const [pid, e] of table) {
      next.set(`${pid}:${e.start}`, e.ticks);
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
        const before = this.prev.get(`${pid}:${e.start}`);
        // A process born since the last sample spent all its ticks within the interval.
        delta += before === undefined ? (this.prevAt > 0 ? e.ticks : 0) : Math.max(0, e.ticks - before);
        rss += await this.residentBytes(pid);
      }
      const cpu = elapsedS > 0 ? (delta / this.clkTck / elapsedS) * 100 : null;
      stats.set(root, { cpu, rss, procs: tree.length });
    }
    // Swapped in whole, so a render between two awaits never sees half a sample.
    this.stats = stats;
    this.prev = next;
    this.prevAt = now;
  }

  private async residentBytes(pid: number): Promise<number> {
    const text = await readFile(`${this.proc}/${pid}/statm`, 'utf8').catch(() => '');
    const pages = Number(text.split(' ')[1]);
    return Number.isFinite(pages) ? pages * this.pageSize : 0;
  }
}
