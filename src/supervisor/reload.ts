import type { Bus } from '../core/bus.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { describeDiff, diffConfigs } from '../config/diff.js';
import { loadConfig, type ResolvedConfig } from '../config/load.js';
import { watchConfigFile } from '../config/watch-file.js';
import { entriesFromConfig } from './entries.js';
import type { Supervisor } from './supervisor.js';

/**
 * Applies every saved edit of the config file to the running set: workers added are started,
 * removed ones stopped, changed ones restarted. An edit that does not validate is reported and
 * the running set is kept, so a half-typed config never stops anything.
 */
export function followConfigFile(
  file: string,
  initial: ResolvedConfig,
  sup: Pick<Supervisor, 'reconcile'>,
  bus: Bus,
  opts: { color: boolean },
): { close(): void } {
  let config = initial;
  return watchConfigFile(file, async () => {
    try {
      const next = await loadConfig(file);
      const diff = diffConfigs(config, next);
      config = next;
      if (diff.added.length + diff.removed.length + diff.changed.length === 0) return;
      bus.emit({ type: 'warning', message: `config reloaded: ${describeDiff(diff)}` });
      await sup.reconcile(entriesFromConfig(next, opts), diff);
    } catch (err) {
      const text = err instanceof ConfigError ? err.problems.join('; ') : errorMessage(err);
      bus.emit({ type: 'warning', message: `config not applied, keeping the running set: ${text}` });
    }
  });
}
