import { errorMessage } from '../core/errors.js';
import type { DevsupEvent, EventOf } from '../core/events.js';
import type { SupervisorApi, WaitFreshResult } from '../supervisor/api.js';
import { newRunId, saveRunLog } from './logs.js';
import type { RunRecord } from './record.js';
import { appendRun } from './store.js';

/**
 * The last lines of some output, bounded by count and by characters: a child that floods must
 * not grow devsup's memory, and a failure is explained by its end, not its beginning.
 */
export class LineTail {
  private lines: string[] = [];
  private head = 0;
  private chars = 0;
  /** Lines pushed out to stay within the bounds. */
  dropped = 0;
  /** When the last line came (performance.now()). */
  lastAt = 0;

  constructor(
    private readonly maxLines = 2000,
    private readonly maxChars = 1024 * 1024,
  ) {}

  push(line: string): void {
    this.lastAt = performance.now();
    this.lines.push(line);
    this.chars += line.length + 1;
    while (this.lines.length - this.head > this.maxLines || (this.chars > this.maxChars && this.lines.length - this.head > 1)) {
      this.chars -= this.lines[this.head]!.length + 1;
      this.head++;
      this.dropped++;
    }
    // Compacts now and then rather than shifting on every line.
    if (this.head > 4096 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }

  text(): string {
    const kept = this.lines.slice(this.head);
    const note = this.dropped > 0 ? `[devsup] ${this.dropped} earlier lines not kept\n` : '';
    return kept.length === 0 ? note : `${note}${kept.join('\n')}\n`;
  }

  get empty(): boolean {
    return this.lines.length === this.head && this.dropped === 0;
  }
}

/**
 * What a recorded task run looks like on disk: a RunRecord plus the event's own count of changed
 * files, which is known even when the list of them is not.
 */
export type RecordedRun = RunRecord & { changedCount?: number };

export interface RecorderOptions {
  /** Logs kept per worker (default 20). */
  keep?: number;
  /** Output lines kept per run (default 2000). */
  maxLines?: number;
  /**
   * How long output of a finished run is still collected: the exit is seen before the pipes are
   * drained, so the last lines may arrive after `task-finished` (default 200 ms). The run's
   * `output-ended` cuts it short: then every line has arrived.
   */
  lateOutputMs?: number;
  /** History must never stop the supervisor; failures to write it end up here. */
  onError?: (err: unknown) => void;
}

export type RecorderHandle = (() => void) & {
  /** Resolves once every run finished so far is written (or has failed to be). */
  idle(): Promise<void>;
};

type Started = EventOf<'worker-started'>;

/** Output of a finished run this long without a line counts as drained. */
const QUIET_MS = 50;
/** The longest a finished run's record waits for its output to drain. */
const MAX_LATE_MS = 3000;

const key = (worker: string, generation: number): string => `${generation}\0${worker}`;

/**
 * Records every finished task run (passed, failed or cancelled) in `stateDir`'s history, with the
 * run's output saved as a log. Returns the unsubscribe function; writes already due still happen.
 */
export function recordTaskRuns(api: SupervisorApi, stateDir: string, opts: RecorderOptions = {}): RecorderHandle {
  const keep = opts.keep ?? 20;
  const lateMs = opts.lateOutputMs ?? 200;
  const onError = opts.onError ?? ((err: unknown) => process.stderr.write(`[devsup] history not recorded: ${errorMessage(err)}\n`));
  const started = new Map<string, Started>();
  const outputs = new Map<string, LineTail>();
  /** Runs whose record is waiting for late output; their buffers must survive the next start. */
  const finishing = new Set<string>();
  /** Runs whose output has ended (an `output-ended` event): nothing more can come for them. */
  const ended = new Set<string>();
  /** A finished run's wait for late output, cut short when its output ends. */
  const endWaits = new Map<string, () => void>();
  // One chain, so records land in the order the runs finished.
  let chain: Promise<void> = Promise.resolve();
  /** The tail of the run whose output came last: a flood brings thousands of lines a second, all of one run. */
  let last: { worker: string; generation: number; tail: LineTail } | undefined;

  const report = (err: unknown): void => {
    try {
      onError(err);
    } catch {
      /* a broken error sink must not take the supervisor down either */
    }
  };

  /** A new generation means no more output for the worker's older ones, unless a record waits for it. */
  const forgetOlder = (e: Started): void => {
    last = undefined;
    for (const keyed of [started, outputs, ended] as const) {
      for (const k of keyed.keys()) {
        const [gen, worker] = splitKey(k);
        if (worker === e.worker && gen < e.generation && !finishing.has(k)) keyed.delete(k);
      }
    }
  };

  const write = async (e: EventOf<'task-finished'>, k: string): Promise<void> => {
    const s = started.get(k);
    const out = outputs.get(k);
    finishing.delete(k);
    ended.delete(k);
    started.delete(k);
    outputs.delete(k);
    last = undefined;
    const startedAt = s?.startedAt ?? new Date(Date.now() - e.durationMs).toISOString();
    const changes = s?.restart?.changes;
    const rec: RecordedRun = {
      v: 1,
      worker: e.worker,
      generation: e.generation,
      codeId: s?.codeId ?? '',
      changedFiles: changes ? [...changes.modified, ...changes.added, ...changes.removed] : [],
      changedCount: e.changedFiles,
      startedAt,
      durationMs: Math.max(0, e.durationMs),
      exitCode: e.code,
      signal: e.signal,
      result: e.result,
      ...(e.deps ? { deps: { ...e.deps } } : {}),
      ...(e.cancelledBy ? { cancelledBy: { ...e.cancelledBy } } : {}),
    };
    if (out && !out.empty) {
      try {
        rec.log = await saveRunLog(stateDir, e.worker, `${newRunId(new Date(startedAt))}-g${e.generation}`, out.text(), keep);
      } catch (err) {
        report(err);
      }
    }
    await appendRun(stateDir, rec);
  };

  /**
   * A run whose output still streams in (a flood draining from its pipe on a busy machine) is
   * written once it has been quiet for a moment, or after MAX_LATE_MS at the latest (a grandchild
   * may hold the pipe and print forever), so its log ends with its real last lines.
   */
  const quiet = async (k: string, until: number): Promise<void> => {
    const gap = Math.min(QUIET_MS, lateMs);
    for (;;) {
      if (ended.has(k)) return;
      const since = performance.now() - (outputs.get(k)?.lastAt ?? 0);
      if (since >= gap || performance.now() >= until) return;
      await new Promise((r) => setTimeout(r, gap - since));
    }
  };

  const onFinished = (e: EventOf<'task-finished'>): void => {
    const k = key(e.worker, e.generation);
    finishing.add(k);
    const until = performance.now() + MAX_LATE_MS;
    // Output that ended tells that nothing more can come: the record is due at once.
    const due = ended.has(k)
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(done, lateMs);
          function done(): void {
            clearTimeout(timer);
            endWaits.delete(k);
            resolve();
          }
          endWaits.set(k, done);
        });
    chain = chain
      .then(() => due)
      .then(() => quiet(k, until))
      .then(() => write(e, k))
      .catch(report);
  };

  const unsubscribe = api.subscribe((e: DevsupEvent) => {
    try {
      if (e.type === 'worker-started') {
        forgetOlder(e);
        started.set(key(e.worker, e.generation), e);
      } else if (e.type === 'output') {
        let tail = last !== undefined && last.worker === e.worker && last.generation === e.generation ? last.tail : undefined;
        if (!tail) {
          const k = key(e.worker, e.generation);
          tail = outputs.get(k);
          if (!tail) outputs.set(k, (tail = new LineTail(opts.maxLines ?? 2000)));
          last = { worker: e.worker, generation: e.generation, tail };
        }
        tail.push(e.line);
      } else if (e.type === 'output-ended') {
        const k = key(e.worker, e.generation);
        ended.add(k);
        endWaits.get(k)?.();
      } else if (e.type === 'task-finished') {
        onFinished(e);
      }
    } catch (err) {
      report(err);
    }
  });

  return Object.assign(() => unsubscribe(), { idle: () => chain });
}

/**
 * `api` as the control socket serves it: an answer of wait-fresh about a task comes only once the
 * records of the runs finished so far are written. A run's record follows its end by a moment (its
 * last output is still draining), and `devsup wait-fresh && devsup history -n 1` must show the run
 * that was answered about, not the one before. A proxy rather than a copy of each method, so the
 * rest of the api is served as it is, whatever it grows.
 */
export function answerAfterRecords(api: SupervisorApi, recorded: () => Promise<void>): SupervisorApi {
  const waitFresh = async (names: string[], timeoutMs: number): Promise<WaitFreshResult> => {
    const res = await api.waitFresh(names, timeoutMs);
    // The run answered about was filed before the answer, so the records due now include its own.
    if (res.tasks.length > 0) await recorded();
    return res;
  };
  return new Proxy(api, {
    get(target, prop) {
      if (prop === 'waitFresh') return waitFresh;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function splitKey(k: string): [number, string] {
  const i = k.indexOf('\0');
  return [Number(k.slice(0, i)), k.slice(i + 1)];
}
