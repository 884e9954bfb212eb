import { existsSync, watch, type FSWatcher } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { refuseClearOfSources } from '../../caches/guard.js';
import { Bus } from '../../core/bus.js';
import { ConfigError, DevsupError, errorMessage } from '../../core/errors.js';
import { diffConfigs, loadConfig, type ResolvedConfig } from '../../config/load.js';
import { entriesFromConfig } from '../../supervisor/entries.js';
import { Supervisor } from '../../supervisor/supervisor.js';
import { jsonView } from '../../views/json.js';
import { plainView } from '../../views/plain.js';
import { openSession } from '../session.js';
import { onShutdownSignals } from '../signals.js';
import type { UpOptions } from './command.js';
import { packageVersion } from '../version.js';

export async function upCommand(opts: UpOptions): Promise<number> {
  const file = resolve(opts.config ?? 'devsup.config.json');
  if (!existsSync(file)) throw new DevsupError(`no config file at ${file} (see config.example.json, or pass --config FILE)`, 'config', 2);
  let config: ResolvedConfig = await loadConfig(file);
  const tui = opts.tui && !opts.json && Boolean(process.stdout.isTTY);
  const color = Boolean(process.stdout.isTTY) && process.env.NO_COLOR === undefined;
  const bus = new Bus();
  let finish!: (code: number) => void;
  const finished = new Promise<number>((r) => (finish = r));
  const entries = entriesFromConfig(config, { color });
  await checkClearGlobs(entries, opts.clearSources === true);
  const sup = new Supervisor(bus, entries, { root: config.dir, version: packageVersion() });

  if (opts.json) bus.on(jsonView(process.stdout));
  else if (!tui) bus.on(plainView(process.stdout, { showWorker: true, showOutput: true, verbose: opts.verbose }));

  const stopAll = (code: number): void => void sup.shutdown().then(() => finish(code));
  const session = await openSession(bus, sup, { root: config.dir, name: opts.name, stateDir: join(config.dir, '.devsup'), onRootGone: () => stopAll(1) });
  const detachSignals = onShutdownSignals((signal, code) => {
    bus.emit({ type: 'shutdown', signal });
    stopAll(code);
  });

  let dashboard: { destroy(): void } | undefined;
  let reloader: { close(): void } | undefined;
  try {
    if (tui) {
      const { startDashboard } = await import('../../views/dashboard/index.js');
      const d = await startDashboard(sup, { title: `devsup · ${basename(config.file)}` });
      dashboard = d;
      void d.closed.then(() => stopAll(0));
    }

    reloader = watchConfig(file, async () => {
      try {
        const next = await loadConfig(file);
        const diff = diffConfigs(config, next);
        if (diff.added.length + diff.removed.length + diff.changed.length === 0) {
          config = next;
          return;
        }
        const nextEntries = entriesFromConfig(next, { color });
        // An edit that makes a clear glob match sources is refused like one at start.
        await checkClearGlobs(nextEntries, opts.clearSources === true);
        config = next;
        bus.emit({ type: 'warning', message: `config reloaded: ${describe(diff)}` });
        await sup.reconcile(nextEntries, diff);
      } catch (err) {
        const text = err instanceof ConfigError ? err.problems.join('; ') : errorMessage(err);
        bus.emit({ type: 'warning', message: `config not applied, keeping the running set: ${text}` });
      }
    });

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

/** Each worker's clear globs against its sources; the first that matches some is refused. */
async function checkClearGlobs(entries: ReturnType<typeof entriesFromConfig>, allowed: boolean): Promise<void> {
  for (const e of entries) {
    const { roots, globs } = e.spec.clear;
    const ignore = (e.watch.ignore ?? []).filter((g) => !globs.includes(g));
    await refuseClearOfSources({ roots, globs, ignore, ext: e.watch.ext }, allowed, '--clear-sources').catch((err: unknown) => {
      throw err instanceof DevsupError ? new DevsupError(`worker ${e.spec.name}: ${err.message}`, err.code, err.exitCode) : err;
    });
  }
}

function describe(d: { added: string[]; removed: string[]; changed: string[] }): string {
  const parts: string[] = [];
  if (d.added.length) parts.push(`added ${d.added.join(', ')}`);
  if (d.removed.length) parts.push(`removed ${d.removed.join(', ')}`);
  if (d.changed.length) parts.push(`changed ${d.changed.join(', ')}`);
  return parts.join('; ');
}

/**
 * Editors often replace the file (write a temp file, rename it over), which ends a watch on the file
 * itself, so the directory is watched and events are filtered by name; reloads run one at a time.
 */
function watchConfig(file: string, reload: () => Promise<void>): { close(): void } {
  let timer: NodeJS.Timeout | undefined;
  let chain = Promise.resolve();
  let w: FSWatcher | undefined;
  try {
    w = watch(dirname(file), (_ev, name) => {
      if (name !== null && name !== basename(file)) return;
      clearTimeout(timer);
      timer = setTimeout(() => {
        chain = chain.then(reload);
      }, 150);
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
  };
}
