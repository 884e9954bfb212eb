import type { Bus } from '../core/bus.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { describeDiff, diffConfigs } from '../config/diff.js';
import { loadConfig, readConfigText, type ResolvedConfig } from '../config/load.js';
import { watchConfigFile } from '../config/watch-file.js';
import { checkClearGlobs, entriesFromConfig } from './entries.js';
import type { Supervisor } from './supervisor.js';

/**
 * Applies every saved edit of the config file to the running set: workers added are started,
 * removed ones stopped, changed ones restarted. An edit that does not validate is reported and
 * the running set is kept, so a half-typed config never stops anything.
 */
export function followConfigFile(
  file: string,
  initial: ResolvedConfig,
  sup: Pick<Supervisor, 'reconcile' | 'useConfigBarrier'>,
  bus: Bus,
  opts: { color: boolean; name?: string; clearSources?: boolean },
): { close(): void; current(): ResolvedConfig } {
  let config = initial;
  // An invalid edit stays on show (a `config-check` with its problems) until a valid one clears it.
  let invalid = false;
  // The text last acted on: a save that changes nothing, or a second look at the same edit, does nothing.
  // Read as loadConfig reads it: a named pipe put in the file's place must not block the supervisor.
  const read = (): Promise<string | undefined> => readConfigText(file).catch(() => undefined);
  let handled = read();
  const watcher = watchConfigFile(file, async () => {
    const text = await read();
    if (text !== undefined && text === (await handled)) return;
    handled = Promise.resolve(text);
    try {
      // Without a text (unreadable, gone), loadConfig reads again and says why.
      const next = await loadConfig(file, text);
      const diff = diffConfigs(config, next);
      const entries = entriesFromConfig(next, opts);
      // An edit that makes a clear glob match sources is refused like one at start.
      if (diff.added.length + diff.removed.length + diff.changed.length > 0) await checkClearGlobs(entries, opts.clearSources === true);
      config = next;
      if (invalid) bus.emit({ type: 'config-check', file, problems: [] });
      invalid = false;
      if (diff.added.length + diff.removed.length + diff.changed.length === 0) return;
      bus.emit({ type: 'warning', message: `config reloaded: ${describeDiff(diff)}` });
      await sup.reconcile(entries, diff);
    } catch (err) {
      invalid = true;
      bus.emit({ type: 'config-check', file, problems: err instanceof ConfigError ? [...err.problems] : [errorMessage(err)] });
    }
  });
  // A wait-fresh asked right after a save of the config is about the workers that save describes.
  sup.useConfigBarrier(() => watcher.settle());
  return { close: () => watcher.close(), current: () => config };
}
