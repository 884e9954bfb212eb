/** Which kernel limit a watch error ran into, if any. */
export type WatchLimit = 'watches' | 'instances';

export function watchLimitOf(err: unknown): WatchLimit | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const message = err instanceof Error ? err.message : String(err);
  // @parcel/watcher only passes strerror() text on, without a code.
  if (code === 'ENOSPC' || /ENOSPC|No space left on device|file watchers/i.test(message)) return 'watches';
  if (/inotify/i.test(message) && (code === 'EMFILE' || /EMFILE|Too many open files/i.test(message))) {
    return 'instances';
  }
  return undefined;
}

export function limitHint(limit: WatchLimit): string {
  return limit === 'watches'
    ? 'the inotify watch limit is reached: raise it with `sudo sysctl fs.inotify.max_user_watches=524288` ' +
        '(add it to /etc/sysctl.conf to keep it), or ignore more directories with --ignore'
    : 'the inotify instance limit is reached: raise it with `sudo sysctl fs.inotify.max_user_instances=1024`, ' +
        'or stop other watchers';
}

/** Errors naming ever new paths must not grow memory or the log without end. */
const MAX_DISTINCT = 100;

/**
 * Reports watch trouble without flooding: a limit error thousands of times over (chokidar emits
 * one per file it cannot watch) becomes one warning, and any other message is said once.
 */
export class WarningOnce {
  private readonly said = new Set<string>();
  private muted = false;

  constructor(private readonly onWarning: (message: string) => void) {}

  /** Reports an error once and returns the kernel limit it hit, if that is what it was. */
  error(err: unknown, context: string): WatchLimit | undefined {
    const limit = watchLimitOf(err);
    if (limit) this.once(`limit:${limit}`, `${context}: ${limitHint(limit)}`);
    else this.once(undefined, `${context}: ${err instanceof Error ? err.message : String(err)}`);
    return limit;
  }

  private once(key: string | undefined, message: string): void {
    const k = key ?? message;
    if (this.said.has(k)) return;
    if (key === undefined && this.said.size >= MAX_DISTINCT) {
      if (!this.muted) this.onWarning('further watcher errors are not reported');
      this.muted = true;
      return;
    }
    this.said.add(k);
    this.onWarning(message);
  }
}
