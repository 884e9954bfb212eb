/** Exit codes follow the shell convention: 128 + signal number. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGQUIT: 131, SIGPIPE: 141 };

/**
 * Calls `onSignal` once on the first Ctrl-C, SIGTERM, SIGHUP or SIGQUIT. A second one while the trees
 * are stopping calls `onForce` (kill them now); without it, it says devsup is still stopping them.
 * A third is taken as the same request and ignored: the kill is already under way.
 */
export function onShutdownSignals(onSignal: (signal: NodeJS.Signals, exitCode: number) => void, onForce?: () => void): () => void {
  let fired = 0;
  const handler = (signal: NodeJS.Signals): void => {
    fired++;
    if (fired === 1) onSignal(signal, SIGNAL_EXIT[signal] ?? 1);
    else if (fired === 2 && onForce) onForce();
    else if (fired === 2) process.stderr.write('[devsup] still stopping the process tree (it is killed after the grace period)\n');
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const s of signals) process.on(s, handler);
  // The reader of devsup's output went away (`| head`, a pager closed): a write fails with EPIPE,
  // which would otherwise end devsup on the spot and leave its trees running. It stops them first,
  // as on SIGPIPE. The listeners stay: whatever is written later fails quietly.
  const onWriteError = (err: NodeJS.ErrnoException): void => {
    if (err.code !== 'EPIPE' || fired > 0) return;
    fired++;
    onSignal('SIGPIPE', SIGNAL_EXIT.SIGPIPE!);
  };
  process.stdout.on('error', onWriteError);
  process.stderr.on('error', onWriteError);
  // Once detached the trees are stopped and devsup is about to exit: a late signal ends it with the
  // shell's code at once instead of killing it by the signal, which a caller would read as a crash.
  const late = (signal: NodeJS.Signals): void => process.exit(SIGNAL_EXIT[signal] ?? 1);
  return () => {
    for (const s of signals) {
      process.off(s, handler);
      process.on(s, late);
    }
  };
}
