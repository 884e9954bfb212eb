import { existsSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { Bus } from '../../core/bus.js';
import { DevsupError } from '../../core/errors.js';
import { loadConfig } from '../../config/load.js';
import { checkClearGlobs, entriesFromConfig } from '../../supervisor/entries.js';
import { stateDirOf } from '../../state/paths.js';
import { followConfigFile } from '../../supervisor/reload.js';
import { Supervisor } from '../../supervisor/supervisor.js';
import { ownOutputFiles } from '../../watch/own-output.js';
import { jsonView } from '../../views/json.js';
import { plainView } from '../../views/plain.js';
import { openSession } from '../session.js';
import { onShutdownSignals } from '../signals.js';
import type { UpOptions } from './command.js';
import { packageVersion } from '../version.js';

export async function upCommand(opts: UpOptions): Promise<number> {
  const file = resolve(opts.config ?? 'devsup.config.json');
  if (!existsSync(file)) {
    throw new DevsupError(`no config file at ${file}; run "devsup init" to write a commented starter config for this project, or pass --config FILE`, 'config', 2);
  }
  const config = await loadConfig(file);
  const tui = opts.tui && !opts.json && Boolean(process.stdout.isTTY);
  const color = Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined;
  const bus = new Bus();
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const entries = entriesFromConfig(config, { color, name: opts.name });
  await checkClearGlobs(entries, opts.clearSources === true);
  const sup = new Supervisor(bus, entries, { root: config.dir, version: packageVersion(), leaveOut: ownOutputFiles() });

  if (opts.json) bus.on(jsonView(process.stdout));
  else if (!tui) bus.on(plainView(process.stdout, { showWorker: true, showOutput: true, verbose: opts.verbose }));

  const session = await openSession(bus, sup, {
    root: config.dir,
    name: opts.name,
    stateDir: stateDirOf(config.dir),
    // Read at each run, so a reloaded config's report path applies from the next run on.
    reportOf: (worker) => (reloader?.current() ?? config).workers.find((w) => w.name === worker)?.junit ?? undefined,
    onRootGone: () => stopAll(1),
  });
  const stopAll = (code: number): void => void sup.shutdown().then(() => finish(code));
  const detachSignals = onShutdownSignals(
    (signal, code) => {
      bus.emit({ type: 'shutdown', signal });
      stopAll(code);
    },
    () => void session.forceKill(),
  );

  let dashboard: { destroy(): void } | undefined;
  let reloader: ReturnType<typeof followConfigFile> | undefined;
  try {
    if (tui) {
      const { startDashboard } = await import('../../views/dashboard/index.js');
      const d = await startDashboard(sup, { title: `devsup · ${basename(config.file)}`, onForce: () => void session.forceKill() });
      dashboard = d;
      void d.closed.then(() => stopAll(0));
    }

    reloader = followConfigFile(file, config, sup, bus, { color, name: opts.name, clearSources: opts.clearSources === true });

    await sup.startAll();
    return await finished;
  } finally {
    reloader?.close();
    detachSignals();
    dashboard?.destroy();
    await sup.shutdown();
    await session.close();
  }
}
