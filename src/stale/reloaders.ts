import { readFileSync } from 'node:fs';

/**
 * Variables a development server's reloader sets in the child it restarts: werkzeug (flask) and
 * django's runserver. The child runs the same command line as the parent, which only watches.
 * A program that merely forks copies of itself (a multiprocessing pool, a node cluster) sets none,
 * and its parent runs project code like the children do.
 */
const RELOADED_CHILD = /(?:^|\0)(WERKZEUG_RUN_MAIN|RUN_MAIN)=true(?:\0|$)/;

/** Whether `pid` was started by a reloader; false where its environment cannot be read (another user, not Linux). */
export function isReloadedChild(pid: number): boolean {
  try {
    return RELOADED_CHILD.test(readFileSync(`/proc/${pid}/environ`, 'latin1'));
  } catch {
    return false;
  }
}
