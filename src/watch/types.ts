/** What a watcher backend reports. Events are only triggers: the verdict comes from re-reading files. */
export type WatchEventKind = 'add' | 'change' | 'unlink' | 'addDir' | 'unlinkDir' | 'other';

export interface WatchEvent {
  kind: WatchEventKind;
  /** Absolute path. */
  path: string;
  /**
   * When the change itself happened, when the backend knows (a file's ctime), on the Date.now()
   * clock: a backend that batches its events reports them well after the write.
   */
  at?: number;
}

/** Decides what is watched and what counts; built once from roots, ignores, ext and .gitignore files. */
export interface PathFilter {
  /** True when the directory must be neither watched nor read (node_modules, .git, ignored globs). */
  skipDir(absPath: string): boolean;
  /** True when the file's content takes part in the verdict (not ignored, matches --ext). */
  includeFile(absPath: string): boolean;
  /**
   * Picomatch globs, relative to a root, for paths skipDir()/includeFile() always reject: a native
   * watcher can then leave such directories unwatched even when they appear later. Optional; a
   * backend still applies skipDir() and includeFile() to everything it reports.
   */
  readonly ignoreGlobs?: readonly string[];
}

export type BackendName = 'inotify' | 'parcel' | 'chokidar';

export interface WatcherOptions {
  /** Absolute paths of existing directories or files. */
  roots: string[];
  filter: PathFilter;
  /** `lastAt`: when the latest of these changes happened, or arrived when that is unknown (Date.now() clock). */
  onEvents(events: WatchEvent[], lastAt: number): void;
  /** Non-fatal trouble (watch limit reached, a root vanished); the watcher keeps going. */
  onWarning(message: string): void;
  /** `auto`: inotify on Linux, @parcel/watcher elsewhere (chokidar when it cannot load). */
  backend?: 'auto' | BackendName;
  /**
   * Also collect, while the watches are added, every file that counts (see Watcher.listed), where
   * the backend can.
   */
  listFiles?: boolean;
  /** Whose default `auto` picks; the running platform unless a test says otherwise. */
  platform?: NodeJS.Platform;
  /** Forces chokidar's polling mode. */
  poll?: boolean;
  pollIntervalMs?: number;
  /** How long events are gathered before delivery, at most BATCH_MS (the settle window, when shorter). */
  batchMs?: number;
}

export interface Watcher {
  readonly backend: BackendName;
  /** Set when the native backend could not load and chokidar took over. */
  readonly fallbackReason?: string;
  /**
   * With `listFiles`: every file that counts, each found in a directory that was already watched
   * when it was read, so a snapshot of them misses nothing; undefined when a backend could not list.
   */
  readonly listed?: readonly string[];
  close(): Promise<void>;
}
