import { createFilter, type FilterOptions } from '../../src/watch/filter.js';
import type { Watcher, WatcherOptions, WatchEvent, WatchEventKind } from '../../src/watch/types.js';
import { createWatcher } from '../../src/watch/watcher.js';
import { waitFor } from '../helpers/wait.js';

export interface Mode {
  name: string;
  backend: 'inotify' | 'parcel' | 'chokidar';
  poll?: boolean;
  pollIntervalMs?: number;
}

export const MODES: Mode[] = [
  { name: 'inotify', backend: 'inotify' },
  { name: 'parcel', backend: 'parcel' },
  { name: 'chokidar', backend: 'chokidar' },
  { name: 'chokidar polling', backend: 'chokidar', poll: true, pollIntervalMs: 50 },
];

/** A running watcher with everything it said recorded. */
export interface Rig {
  watcher: Watcher;
  events: WatchEvent[];
  warnings: string[];
  saw(kind: WatchEventKind | WatchEventKind[], path: string): boolean;
  waitEvent(kind: WatchEventKind | WatchEventKind[], path: string, timeoutMs?: number): Promise<boolean>;
  waitWarning(part: string): Promise<string>;
}

const open: Watcher[] = [];

export async function startRig(
  roots: string[],
  mode: Mode,
  filterOpts: Partial<FilterOptions> = {},
  extra: Partial<WatcherOptions> = {},
): Promise<Rig> {
  const events: WatchEvent[] = [];
  const warnings: string[] = [];
  const watcher = await createWatcher({
    roots,
    filter: createFilter({ roots, ...filterOpts }),
    backend: mode.backend,
    poll: mode.poll,
    pollIntervalMs: mode.pollIntervalMs,
    onEvents: (batch) => events.push(...batch),
    onWarning: (w) => warnings.push(w),
    ...extra,
  });
  open.push(watcher);
  const saw = (kind: WatchEventKind | WatchEventKind[], path: string) => {
    const kinds = Array.isArray(kind) ? kind : [kind];
    return events.some((e) => e.path === path && kinds.includes(e.kind));
  };
  return {
    watcher,
    events,
    warnings,
    saw,
    waitEvent: (kind, path, timeoutMs = 10_000) =>
      explain(waitFor(() => saw(kind, path), `${String(kind)} ${path}`, timeoutMs), () =>
        `${describe(events)}; warnings: ${JSON.stringify(warnings)}`,
      ),
    waitWarning: (part) =>
      explain(waitFor(() => warnings.find((w) => w.includes(part)), `a warning with "${part}"`), () =>
        JSON.stringify(warnings),
      ),
  };
}

export async function closeRigs(): Promise<void> {
  await Promise.all(open.splice(0).map((w) => w.close()));
}

/** A timeout says what had arrived by then, not what had arrived when the wait began. */
async function explain<T>(wait: Promise<T>, got: () => string): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    throw new Error(`${(err as Error).message}; got ${got()}`);
  }
}

function describe(events: WatchEvent[]): string {
  const tail = events.slice(-20).map((e) => `${e.kind} ${e.path}`);
  return `${events.length} events${tail.length ? `, last: ${tail.join(', ')}` : ''}`;
}
