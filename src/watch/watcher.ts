import { EventBatcher } from './batch.js';
import type { ChokidarSettings } from './chokidar.js';
import { inotifyOpener } from './inotify.js';
import { WarningOnce } from './limits.js';
import type { ParcelApi } from './parcel.js';
import { WatchTargets, type OpenTarget, type SuperviseOptions } from './supervise.js';
import { watchTargets } from './targets.js';
import type { BackendName, PathFilter, Watcher, WatcherOptions } from './types.js';

/**
 * chokidar's own default (100 ms) costs 1.5 cores on a 50,000-file tree; polling is the slow,
 * last-resort mode anyway (network mounts, containers), so it is kept cheaper.
 */
export const DEFAULT_POLL_INTERVAL_MS = 300;

/** Starts watching; resolves once every root is watched (or, if missing, being waited for). */
export async function createWatcher(opts: WatcherOptions): Promise<Watcher> {
  const warn = new WarningOnce(opts.onWarning);
  const intervalMs = Math.max(10, opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  const polling = chokidarOpener(opts.filter, { poll: true, intervalMs });
  const wanted = opts.poll ? 'chokidar' : (opts.backend ?? 'auto');

  let backend: BackendName = 'chokidar';
  let open: OpenTarget = opts.poll ? polling : chokidarOpener(opts.filter, { poll: false, intervalMs });
  let fallbackReason: string | undefined;
  if (usesInotify(opts)) {
    open = inotifyOpener(opts.filter, opts.listFiles ?? false);
    backend = 'inotify';
  } else if (wanted !== 'chokidar') {
    try {
      const { parcelOpener } = await import('./parcel.js');
      open = parcelOpener(await loadParcel(), opts.filter);
      backend = 'parcel';
    } catch (err) {
      const why = `@parcel/watcher could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
      if (wanted === 'parcel') throw new Error(why, { cause: err });
      fallbackReason = `${why}; using chokidar`;
    }
  }

  const supervised: SuperviseOptions = {
    open,
    fallback: opts.poll ? undefined : { open: polling, name: `polling every ${intervalMs} ms` },
    batcher: new EventBatcher((events, lastAt) => opts.onEvents(events, lastAt), opts.batchMs),
    warn,
    onWarning: opts.onWarning,
  };
  const targets = new WatchTargets(supervised);
  try {
    await targets.start(await watchTargets(opts.roots));
  } catch (err) {
    await targets.close();
    throw err;
  }
  return {
    backend,
    // Asked when it is reported: a target moves to polling when the kernel's watch limit is hit.
    get fallbackReason() {
      const polled = targets.fallenBack();
      const limit = polled.length > 0 ? `the kernel's inotify watch limit was reached; polling ${polled.join(', ')} every ${intervalMs} ms` : undefined;
      return [fallbackReason, limit].filter(Boolean).join('; ') || undefined;
    },
    listed: opts.listFiles ? targets.listed() : undefined,
    close: () => targets.close(),
  };
}

/** Whether createWatcher with these options picks the inotify backend, which can list as it watches. */
export function usesInotify(opts: Pick<WatcherOptions, 'backend' | 'poll' | 'platform'>): boolean {
  const wanted = opts.poll ? 'chokidar' : (opts.backend ?? 'auto');
  return wanted === 'inotify' || (wanted === 'auto' && (opts.platform ?? process.platform) === 'linux');
}

/** chokidar is loaded only once a target needs it: polling and fallbacks are rare. */
function chokidarOpener(filter: PathFilter, settings: ChokidarSettings): OpenTarget {
  return async (target, sink) => (await import('./chokidar.js')).chokidarOpener(filter, settings)(target, sink);
}

/** The native module is imported only when wanted, and its absence is survivable. */
async function loadParcel(): Promise<ParcelApi> {
  const mod = (await import('@parcel/watcher')) as ParcelApi & { default?: ParcelApi };
  const api = mod.default ?? mod;
  if (typeof api.subscribe !== 'function') throw new Error('it has no subscribe()');
  return api;
}
