/** Exit codes follow the shell convention: 128 + signal number. */
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, SIGQUIT: 131 };

/**
 * Calls `onSignal` once on the first Ctrl-C, SIGTERM, SIGHUP or SIGQUIT; a second Ctrl-C while shutting
 * down says that devsup is still stopping the tree rather than abandoning it.
 */
export function onShutdownSignals(onSignal: (signal: NodeJS.Signals, exitCode: number) => void): () => void {
  let fired = false;
  const handler = (signal: NodeJS.Signals): void => {
    if (fired) {
      process.stderr.write('[devsup] still stopping the process tree (it is killed after the grace period)\n');
      return;
    }
    fired = true;
    onSignal(signal, SIGNAL_EXIT[signal] ?? 1);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'];
  for (const s of signals) process.on(s, handler);
  return () => {
    for (const s of signals) process.off(s, handler);
  };
}
