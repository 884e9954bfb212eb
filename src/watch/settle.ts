import { stat } from 'node:fs/promises';
import { soon, type Soon } from '../core/soon.js';

export interface SettleOptions {
  /** The tree must be quiet this long before a burst counts as one change. */
  quietMs: number;
  onSettled(paths: string[]): void;
  /** Bounds how often a file that keeps growing can postpone the verdict. */
  maxExtensions?: number;
}

/**
 * Collects change triggers until the tree has been quiet for `quietMs` and no changed file was
 * modified within the window (a writer that flushes without the backend noticing, as with polling,
 * is still waited for). Holds postpone settling; releasing the last hold settles what was collected.
 */
export class Settler {
  private readonly pending = new Set<string>();
  private timer: Soon | undefined;
  private extensions = 0;
  private holds = 0;
  private closed = false;
  private checking = false;
  private lastAt = 0;

  constructor(private readonly opts: SettleOptions) {}

  /** `at`: when the latest of these paths was seen; the quiet window counts from then. */
  push(paths: Iterable<string>, at = Date.now()): void {
    if (this.closed) return;
    for (const p of paths) this.pending.add(p);
    this.extensions = 0;
    this.lastAt = Math.max(this.lastAt, at);
    this.arm(this.opts.quietMs - (Date.now() - this.lastAt));
  }

  /** Settles now whatever is pending (a caller that needs a barrier closes the window itself). */
  flush(): void {
    if (this.pending.size === 0) return;
    this.clear();
    this.fire();
  }

  hold(): void {
    this.holds++;
    this.clear();
  }

  release(): void {
    if (this.holds === 0) return;
    this.holds--;
    if (this.holds === 0 && this.pending.size > 0) this.arm();
  }

  get held(): boolean {
    return this.holds > 0;
  }

  get hasPending(): boolean {
    return this.pending.size > 0;
  }

  close(): void {
    this.closed = true;
    this.clear();
    this.pending.clear();
  }

  private arm(delayMs = this.opts.quietMs): void {
    this.clear();
    if (this.holds > 0) return;
    this.timer = soon(() => void this.check(), delayMs);
  }

  private clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    if (this.checking || this.closed || this.holds > 0) return;
    this.checking = true;
    try {
      const growing = await this.anyRecentlyModified();
      if (this.closed || this.holds > 0 || this.timer) return;
      if (growing && this.extensions < (this.opts.maxExtensions ?? 20)) {
        this.extensions++;
        this.arm();
        return;
      }
      this.fire();
    } finally {
      this.checking = false;
    }
  }

  private fire(): void {
    const paths = [...this.pending];
    this.pending.clear();
    this.extensions = 0;
    if (paths.length > 0) this.opts.onSettled(paths);
  }

  /** An mtime inside the quiet window means a write we got no event for; future mtimes are skew, not writes. */
  private async anyRecentlyModified(): Promise<boolean> {
    // A window this short has no room for a write we got no event for: nothing to look at.
    if (this.opts.quietMs <= 5) return false;
    const now = Date.now();
    const sample = [...this.pending].slice(0, 200);
    const stats = await Promise.all(sample.map((p) => stat(p).catch(() => undefined)));
    return stats.some((s) => s !== undefined && s.isFile() && s.mtimeMs <= now && now - s.mtimeMs < this.opts.quietMs - 5);
  }
}
