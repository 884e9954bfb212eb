import { formatDuration, rejectedConfigLines } from '../../views/format.js';
import type { ControlOptions } from './commands.js';
import { withClient } from './connect.js';

const APPEAR_WAIT_MS = 3000;

/**
 * Exit 0 once every named worker runs (and is ready on) the code on disk at the time of the call;
 * for tasks, the result of the run on that code: 0 passed, 1 failed. Exit 1 on timeout.
 */
export async function waitFreshCommand(workers: string[], opts: ControlOptions & { timeout: number }): Promise<number> {
  // A supervisor launched a moment ago (`devsup run … &` in a script) is given a few seconds to appear.
  const res = await withClient(opts.name, (c) => c.waitFresh(workers, opts.timeout), Math.min(opts.timeout, APPEAR_WAIT_MS));
  if (res.configRejected) {
    process.stderr.write(`devsup: not fresh: ${rejectedConfigLines(res.configRejected).join('\n')}\n`);
    return 1;
  }
  if (!res.ok) {
    process.stderr.write(`devsup: not fresh after ${formatDuration(opts.timeout)}; still waiting for:\n${res.waiting.map((w) => `  ${w}\n`).join('')}`);
    return 1;
  }
  for (const t of res.tasks) process.stderr.write(`${t.worker}: ${t.result}${t.code !== null && t.result === 'failed' ? ` (exit ${t.code})` : ''}\n`);
  return res.tasks.every((t) => t.result === 'passed') ? 0 : 1;
}
