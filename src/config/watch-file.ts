import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

/** Quiet time after the last event before a reload: an editor's save is several events. */
const SETTLE_MS = 150;

/**
 * Calls `changed` after the config file was written. Editors often replace the file (write a temp
 * file, rename it over), which ends a watch on the file itself, so the directory is watched and
 * events are filtered by name; calls run one at a time.
 */
export function watchConfigFile(file: string, changed: () => Promise<void>): { close(): void; settle(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();
  let w: FSWatcher | undefined;
  try {
    w = watch(dirname(file), (_ev, name) => {
      if (name !== null && name !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        chain = chain.then(changed);
      }, SETTLE_MS);
    });
    w.on('error', () => undefined);
  } catch {
    /* no reload where the directory cannot be watched */
  }
  return {
    close: () => {
      clearTimeout(timer);
      w?.close();
    },
    // Now, without waiting for an event or for the quiet time: the caller asks what the file says.
    settle: () => {
      clearTimeout(timer);
      timer = undefined;
      chain = chain.then(changed);
      return chain;
    },
  };
}
