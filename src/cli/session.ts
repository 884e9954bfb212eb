import type { Bus } from '../core/bus.js';
import { errorMessage } from '../core/errors.js';
import { recordChildren, recoverLeftovers } from '../control/children.js';
import { guardRoot } from '../control/root-guard.js';
import { startControlServer } from '../control/server.js';
import { answerAfterRecords, recordTaskRuns, type RecorderHandle } from '../history/recorder.js';
import { trackTaskTests } from '../flake/task-tests.js';
import { describeKilled, trackTrees } from './force-kill.js';
import type { Supervisor } from '../supervisor/supervisor.js';

export interface SessionOptions {
  /** The project: the config's directory for `up`, the working directory for `run`. */
  root: string;
  name: string;
  stateDir: string;
  /** A task's JUnit report (config `junit`), read after each run for per-test counts. */
  reportOf?: (worker: string) => string | undefined;
  /** The project directory was moved or removed while running: the caller stops everything. */
  onRootGone?: () => void;
}

/**
 * What `run` and `up` share around a supervisor: the control socket (taken first, so a second devsup
 * for the project fails before starting anything), recovery of trees a crashed supervisor left
 * behind, the record of running children, and the run history.
 */
export interface Session {
  /** SIGKILLs every tree started in this session at once and says on stderr which processes it killed. */
  forceKill(): Promise<void>;
  close(): Promise<void>;
}

export async function openSession(bus: Bus, sup: Supervisor, opts: SessionOptions): Promise<Session> {
  const trees = trackTrees(bus);
  // The history starts once the socket is ours; a wait-fresh asked before then has no record to wait for.
  let history: RecorderHandle | undefined;
  const control = await startControlServer(
    answerAfterRecords(sup, () => history?.idle() ?? Promise.resolve()),
    { root: opts.root, name: opts.name },
  );
  try {
    const { stopped } = await recoverLeftovers(opts.root, opts.name);
    if (stopped.length > 0) {
      bus.emit({
        type: 'warning',
        message: `stopped ${stopped.length} process(es) left running by a devsup that crashed (pids ${stopped.map((p) => p.pid).join(', ')})`,
      });
    }
  } catch (err) {
    bus.emit({ type: 'warning', message: `could not check for processes left by a crashed devsup: ${errorMessage(err)}` });
  }
  const children = recordChildren(sup, opts.root, opts.name);
  const guard = guardRoot(opts.root, opts.name, (movedTo) => {
    const where = movedTo ? `moved to ${movedTo}` : 'moved or removed';
    bus.emit({ type: 'warning', message: `the project directory ${opts.root} was ${where}; stopping (start devsup again in its new place)` });
    opts.onRootGone?.();
  });
  // Listeners run as the change is told, before any worker acts on it: a project that moved stops
  // here, never restarted in whatever now stands at its old path.
  const offMoves = sup.subscribe((e) => {
    if (e.type === 'change') guard.check();
  });
  history = recordTaskRuns(sup, opts.stateDir, {
    onError: (err) => bus.emit({ type: 'warning', message: `history not recorded: ${errorMessage(err)}` }),
  });
  const tests = trackTaskTests((l) => sup.subscribe(l), {
    stateDir: opts.stateDir,
    reportOf: opts.reportOf ?? (() => undefined),
    emit: (e) => bus.emit(e),
    onError: (err) => bus.emit({ type: 'warning', message: `test counts: ${errorMessage(err)}` }),
  });
  return {
    async forceKill() {
      const killed = await trees.killAll().catch((err: unknown) => {
        process.stderr.write(`[devsup] could not kill the process trees: ${errorMessage(err)}\n`);
        return undefined;
      });
      if (killed) process.stderr.write(`[devsup] second interrupt: ${describeKilled(killed)}\n`);
    },
    async close() {
      trees.close();
      await history.idle();
      history();
      await tests.idle();
      tests();
      await children.close();
      await control.close();
      offMoves();
      guard.close();
    },
  };
}
