import { errorMessage } from '../../core/errors.js';
import type { SupervisorApi, WorkerView } from '../../supervisor/api.js';
import { formatBytes, plural } from '../format.js';
import type { StatusLine } from './status.js';

/**
 * The keys that act on workers. Each says what it is doing, calls the api, and says how it went;
 * whether a restart or a stop is allowed is the api's business, not the dashboard's.
 */
export class Commands {
  /** Workers whose restart the dashboard saw begin, to tell restarting from stopping. */
  readonly restarting = new Set<string>();
  private quitting = false;

  constructor(
    private readonly api: SupervisorApi,
    private readonly status: StatusLine,
    /** Called after every call settles: the snapshot has changed. */
    private readonly settled: () => void,
  ) {}

  restart(name: string): void {
    this.restarting.add(name);
    this.call(`restarting ${name}…`, () => this.api.restart([name]), () => `restarted ${name}`, () => this.restarting.delete(name));
  }

  restartAll(workers: WorkerView[]): void {
    const names = workers.map((w) => w.name);
    for (const n of names) this.restarting.add(n);
    this.call('restarting all workers…', () => this.api.restart('all'), () => 'restarted all workers', () => names.forEach((n) => this.restarting.delete(n)));
  }

  /** Starts a worker the user stopped (state idle), stops any other. */
  toggleStop(w: WorkerView): void {
    if (w.state === 'idle') {
      this.call(`starting ${w.name}…`, () => this.api.start(w.name), () => `started ${w.name}`);
    } else {
      this.restarting.delete(w.name);
      this.call(`stopping ${w.name}…`, () => this.api.stop(w.name), () => `stopped ${w.name}`);
    }
  }

  clearCaches(name: string): void {
    this.call(
      `clearing caches of ${name}…`,
      () => this.api.clearCaches(name),
      (r) => (r.paths.length === 0 ? `${name}: no caches to clear` : `cleared ${plural(r.paths.length, 'cache')} (${formatBytes(r.bytes)})`),
    );
  }

  /** From now on only "stopping…" is said; late results of earlier calls are not shown. */
  quit(canForce = false): void {
    this.quitting = true;
    this.status.say(canForce ? 'stopping… (press q or Ctrl-C again to kill now)' : 'stopping…', 'info', Infinity);
  }

  /** Said once a second quit key has sent SIGKILL to every tree. */
  forcing(): void {
    this.status.say('killing every process now…', 'warn', Infinity);
  }

  private call<T>(doing: string, run: () => Promise<T>, done: (r: T) => string, after?: () => void): void {
    if (this.quitting) return;
    this.status.say(doing, 'info', Infinity);
    let p: Promise<T>;
    try {
      p = run();
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (r) => {
        if (!this.quitting) this.status.say(done(r), 'ok');
      },
      (err: unknown) => {
        if (!this.quitting) this.status.say(`${doing.replace(/…$/, '')} failed: ${errorMessage(err)}`, 'error', 10_000);
      },
    ).finally(() => {
      after?.();
      this.settled();
    });
  }
}
