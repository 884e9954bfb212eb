import { UsageError } from '../../core/errors.js';
import { formatCompare } from '../../flake/compare.js';
import { commandKey, readSessions, taskKey, totalsByCode } from '../../history/flake-sessions.js';
import { findStateDir } from './state.js';

export interface CompareOptions {
  shell?: boolean;
  task?: string;
  confidence?: number;
}

/** `devsup flake --compare [-- command]`: before and after, per code id, from the recorded sessions. */
export async function compareCommand(argv: string[], opts: CompareOptions): Promise<number> {
  if (opts.task !== undefined && argv.length > 0) throw new UsageError('give a command or --task NAME, not both');
  const stateDir = findStateDir(process.cwd());
  const all = stateDir === null ? [] : await readSessions(stateDir);
  let key: string | undefined;
  if (opts.task !== undefined) key = taskKey(opts.task);
  else if (argv.length > 0) key = commandKey(opts.shell ? argv.join(' ') : argv);
  else key = all.at(-1)?.key;
  const sessions = all.filter((s) => s.key === key);
  if (key === undefined || sessions.length === 0) {
    const what = opts.task !== undefined ? `task "${opts.task}"` : argv.length > 0 ? 'this command' : 'any command';
    process.stdout.write(`no flake sessions recorded for ${what}${stateDir === null ? ' (no .devsup directory here or above)' : ''}\n`);
    return 0;
  }
  const label = sessions.at(-1)!.label;
  const alpha = 1 - (opts.confidence ?? 0.95);
  process.stdout.write(`${formatCompare(label, totalsByCode(sessions), alpha).join('\n')}\n`);
  return 0;
}
