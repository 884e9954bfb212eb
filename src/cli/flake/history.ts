import { existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { formatCompare } from '../../flake/compare.js';
import { readSessions, taskKey, totalsByCode } from '../../history/flake-sessions.js';
import { readRuns } from '../../history/store.js';
import { stylerFor } from '../../views/style.js';
import { historyTable } from './table.js';
import { findStateDir } from './state.js';

export interface HistoryOptions {
  limit: number;
  json?: boolean;
  flaky?: boolean;
}

export async function historyCommand(worker: string | undefined, opts: HistoryOptions): Promise<number> {
  const cwd = process.cwd();
  const stateDir = findStateDir(cwd);
  if (opts.flaky) return flakyReport(stateDir, worker);
  const records = stateDir === null ? [] : await readRuns(stateDir, { worker, limit: opts.limit });
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(records, null, 2)}\n`);
    return 0;
  }
  if (records.length === 0) {
    const whose = worker === undefined ? '' : ` for worker "${worker}"`;
    const where = stateDir === null ? ' (no .devsup directory here or above)' : '';
    process.stdout.write(`no runs recorded yet${whose}${where}\n`);
    return 0;
  }
  const lines = historyTable(records, {
    now: Date.now(),
    style: stylerFor(process.stdout),
    showPath: (p) => {
      const abs = resolve(p);
      const shown = abs.startsWith(cwd + sep) ? relative(cwd, abs) : abs;
      // Logs are pruned to the last few per worker; older records keep the path of a log now gone.
      return existsSync(abs) ? shown : `${shown} (pruned)`;
    },
  });
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/**
 * `history --flaky`: for every command and repeated task measured, the failure rate per code id
 * and the test of the two latest, as `flake --compare` shows one of them. WORKER narrows it to a
 * task ("flake" to the flake commands).
 */
async function flakyReport(stateDir: string | null, worker: string | undefined): Promise<number> {
  const sessions = stateDir === null ? [] : await readSessions(stateDir);
  const keys = [...new Set(sessions.map((s) => s.key))].filter(
    (k) => worker === undefined || k === taskKey(worker) || (worker === 'flake' && k.startsWith('flake ')),
  );
  if (keys.length === 0) {
    process.stdout.write('no flake sessions or repeated task rounds recorded yet\n');
    return 0;
  }
  const blocks = keys.map((k) => {
    const of = sessions.filter((s) => s.key === k);
    return formatCompare(of.at(-1)!.label, totalsByCode(of)).join('\n');
  });
  process.stdout.write(`${blocks.join('\n\n')}\n`);
  return 0;
}
