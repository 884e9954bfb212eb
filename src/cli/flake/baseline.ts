import { UsageError } from '../../core/errors.js';
import { commandKey, readSessions, totalsByCode } from '../../history/flake-sessions.js';
import { formatRate } from '../../history/stats.js';

/** The command as a person would type it. */
export function commandLabel(command: string[] | string): string {
  if (!Array.isArray(command)) return command;
  return command.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * `--baseline last`: the failure rate the same command had on the newest other code id that
 * failed at all, all its sessions summed. The observed rate is taken as the baseline; its own
 * uncertainty is what `--compare` accounts for afterwards (Fisher's test on both counts).
 */
export async function baselineFromHistory(
  stateDir: string,
  command: string[] | string,
  codeId: string,
): Promise<{ rate: number; note: string }> {
  const totals = totalsByCode(await readSessions(stateDir, commandKey(command)));
  const before = totals.filter((t) => t.codeId !== codeId && t.failed > 0).pop();
  if (!before) {
    throw new UsageError(
      `no earlier flake session of "${commandLabel(command)}" on other code had a failure; give the rate instead, e.g. --baseline 5%`,
    );
  }
  const rate = before.failed / before.runs;
  if (rate >= 1) throw new UsageError(`every recorded run on ${before.codeId} failed: that is broken, not flaky; give --baseline RATE`);
  const sessions = before.sessions === 1 ? '1 session' : `${before.sessions} sessions`;
  return { rate, note: `baseline ${formatRate(rate)}: ${before.failed} of ${before.runs} runs failed on ${before.codeId} (${sessions})` };
}
