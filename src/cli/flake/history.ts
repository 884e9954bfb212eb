import { existsSync } from 'node:fs';
import { relative, resolve, sep } from 'node:path';
import { readRuns } from '../../history/store.js';
import { stylerFor } from '../../views/style.js';
import { historyTable } from './table.js';
import { findStateDir } from './state.js';

export interface HistoryOptions {
  limit: number;
  json?: boolean;
}

export async function historyCommand(worker: string | undefined, opts: HistoryOptions): Promise<number> {
  const cwd = process.cwd();
  const stateDir = findStateDir(cwd);
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
