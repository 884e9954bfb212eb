import type { EventBatcher } from './batch.js';
import type { WarningOnce } from './limits.js';
import { isDirectory, targetEvents, type Target } from './targets.js';
import type { WatchEvent } from './types.js';

/** How a backend talks back about one target. */
export interface TargetSink {
  emit(events: readonly WatchEvent[]): void;
  /** The target directory itself is gone; the backend's watch on it is dead. */
  vanished(): void;
  /** The backend stopped watching the target and must be reopened. */
  failed(err: unknown): void;
  /** Trouble the backend survives (a kernel limit may still move the target to the fallback). */
  error(err: unknown): void;
}

export interface TargetHandle {
  close(): Promise<void>;
  /** The files that count, when the backend collected them while adding its watches. */
  readonly listed?: readonly string[];
}

export type OpenTarget = (target: Target, sink: TargetSink) => Promise<TargetHandle>;

/** Starts a backend's handle; one that fails to start is closed, so it leaves no watch behind. */
export async function started<T extends TargetHandle & { start(): Promise<void> }>(handle: T): Promise<T> {
  try {
    await handle.start();
  } catch (err) {
    await handle.close();
    throw err;
  }
  return handle;
}

export interface SuperviseOptions {
  open: OpenTarget;
  /** Takes over a target once a kernel watch limit is hit (polling needs no watches). */
  fallback?: { open: OpenTarget; name: string };
  batcher: EventBatcher;
  warn: WarningOnce;
  onWarning(message: string): void;
}

/** A vanished root is looked for quickly at first, then at most once a second. */
const RETRY = { missing: { first: 50, max: 1000 }, error: { first: 1000, max: 10_000 } };
/** A backend failing again this soon after being reopened is failing for good, for now. */
const REPEATED_FAILURE_MS = 5000;
/**
 * A backend does not always report its own root going away (a loaded machine can lose the
 * inotify self-event), so the root is also looked at after a batch that removed something, and
 * now and then while nothing happens.
 */
const ROOT_CHECK = { afterRemoval: 100, idle: 3000 };

/** Keeps one target watched: reopens it after failures and waits for a vanished directory to return. */
class TargetRunner {
  private handle: TargetHandle | undefined;
  /** Bumped on every open, so a sink of an earlier open is no longer heard. */
  private epoch = 0;
  private opener: OpenTarget;
  private onFallback = false;
  private timer: NodeJS.Timeout | undefined;
  private delay = 0;
  private absent = false;
  private lastFailure = 0;
  private closed = false;
  private rootCheck: NodeJS.Timeout | undefined;
  /** Opening, closing and reopening happen one at a time. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly target: Target,
    private readonly o: SuperviseOptions,
  ) {
    this.opener = o.open;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.open(false));
  }

  /** The target's directory when it was moved to the fallback (polling), undefined otherwise. */
  get fallenBack(): string | undefined {
    return this.onFallback ? this.target.dir : undefined;
  }

  /** A target still waited for holds nothing yet; one watched without a listing is unknown. */
  listing(): readonly string[] | undefined {
    return this.absent ? [] : this.handle?.listed;
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.rootCheck);
    return this.enqueue(() => this.release());
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(step).catch((err: unknown) => {
      this.o.warn.error(err, `watching ${this.target.dir}`);
    });
    return this.queue;
  }

  private async open(announce: boolean): Promise<void> {
    if (this.closed) return;
    const epoch = ++this.epoch;
    let handle: TargetHandle;
    try {
      handle = await this.opener(this.target, this.sinkFor(epoch));
    } catch (err) {
      return this.openFailed(err);
    }
    if (this.closed) return handle.close();
    this.handle = handle;
    this.delay = 0;
    this.absent = false;
    this.checkRootIn(ROOT_CHECK.idle);
    // Whatever changed while nothing watched is unknown: the consumer gets a trigger to re-read.
    if (announce) this.o.batcher.push(targetEvents(this.target, false));
  }

  private async openFailed(err: unknown): Promise<void> {
    if (this.closed) return;
    if (!(await isDirectory(this.target.dir))) {
      if (!this.absent) this.o.onWarning(`watched directory ${this.target.dir} does not exist; waiting for it`);
      this.absent = true;
      return this.retryLater('missing');
    }
    const limit = this.o.warn.error(err, `cannot watch ${this.target.dir}`);
    if (limit && this.switchToFallback()) return this.open(true);
    this.retryLater('error');
  }

  private switchToFallback(): boolean {
    const fb = this.o.fallback;
    if (!fb || this.onFallback) return false;
    this.onFallback = true;
    this.opener = fb.open;
    this.o.onWarning(`watching ${this.target.dir} with ${fb.name} instead`);
    return true;
  }

  private retryLater(kind: keyof typeof RETRY): void {
    if (this.closed) return;
    const { first, max } = RETRY[kind];
    this.delay = this.delay === 0 ? first : Math.min(this.delay * 2, max);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.enqueue(async () => {
        if (await isDirectory(this.target.dir)) return this.open(true);
        this.retryLater(kind);
      });
    }, this.delay);
  }

  /** Only whole directories: the parent of file roots being gone shows as their removal anyway. */
  private checkRootIn(ms: number): void {
    if (this.closed || !this.target.whole) return;
    clearTimeout(this.rootCheck);
    const epoch = this.epoch;
    this.rootCheck = setTimeout(() => {
      this.rootCheck = undefined;
      void this.enqueue(async () => {
        if (this.closed || epoch !== this.epoch) return;
        if (await isDirectory(this.target.dir)) return this.checkRootIn(ROOT_CHECK.idle);
        // A sink of this epoch: if the target was reopened meanwhile, it is no longer heard.
        this.sinkFor(epoch).vanished();
      });
    }, ms);
    this.rootCheck.unref();
  }

  private async release(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }

  private sinkFor(epoch: number): TargetSink {
    const current = () => !this.closed && epoch === this.epoch;
    const reopen = (why: () => void, announce: boolean) =>
      void this.enqueue(async () => {
        if (!current()) return;
        this.epoch++;
        await this.release();
        why();
        if (announce) await this.open(true);
      });
    return {
      emit: (events) => {
        if (!current()) return;
        this.o.batcher.push(events);
        if (events.some((e) => e.kind === 'unlink' || e.kind === 'unlinkDir')) this.checkRootIn(ROOT_CHECK.afterRemoval);
      },
      vanished: () =>
        reopen(() => {
          this.o.batcher.push(targetEvents(this.target, true));
          this.o.onWarning(`watched directory ${this.target.dir} disappeared; waiting for it to come back`);
          this.absent = true;
          this.retryLater('missing');
        }, false),
      failed: (err) => {
        // Reopened at once, unless it keeps failing: then after a pause, growing to 10 s.
        const again = Date.now() - this.lastFailure < REPEATED_FAILURE_MS;
        this.lastFailure = Date.now();
        reopen(() => {
          this.o.warn.error(err, `watching ${this.target.dir} failed`);
          if (again) this.retryLater('error');
        }, !again);
      },
      error: (err) => {
        if (!current()) return;
        const limit = this.o.warn.error(err, `watching ${this.target.dir}`);
        if (limit && this.o.fallback && !this.onFallback) reopen(() => this.switchToFallback(), true);
      },
    };
  }
}

/** Runs every target; close() is idempotent and leaves no timer or handle behind. */
export class WatchTargets {
  private runners: TargetRunner[] = [];
  private closing: Promise<void> | undefined;

  constructor(private readonly o: SuperviseOptions) {}

  async start(targets: readonly Target[]): Promise<void> {
    this.runners = targets.map((t) => new TargetRunner(t, this.o));
    await Promise.all(this.runners.map((r) => r.start()));
  }

  /** Directories whose targets were moved to the fallback. */
  fallenBack(): string[] {
    return this.runners.map((r) => r.fallenBack).filter((d): d is string => d !== undefined);
  }

  /** What every target listed while it was first watched; undefined when one did not. */
  listed(): string[] | undefined {
    const all = new Set<string>();
    for (const r of this.runners) {
      const files = r.listing();
      if (!files) return undefined;
      for (const f of files) all.add(f);
    }
    return [...all];
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.o.batcher.close();
      await Promise.all(this.runners.map((r) => r.close()));
    })();
    return this.closing;
  }
}
