import type { Bus } from '../core/bus.js';
import { errorMessage } from '../core/errors.js';
import type { DevsupEvent, PortHolderInfo } from '../core/events.js';
import { shq } from '../doctor/shell.js';
import { listeningSupported, portHolders } from '../process/listening.js';
import { scanProject } from '../stale/scan.js';
import { loadLearned } from '../worker/learned-ready.js';
import type { WorkerSpec } from '../worker/worker.js';

/** `listen EADDRINUSE: address already in use :::4310`, `[Errno 98] Address already in use`, ... */
const IN_USE = /EADDRINUSE|address already in use|port \d+ is (already )?in use/i;

/**
 * The port an "in use" line names: `:4310`, `('0.0.0.0', 8000)`, `port 5000`; undefined when none.
 * The last candidate wins: a timestamp (`12:30:45`) comes first on a log line, the address after.
 */
export function portInLine(line: string): number | undefined {
  const all = [...line.matchAll(/(?::|,\s*|\bport\s+)(\d{1,5})\b/gi)];
  const port = Number(all.at(-1)?.[1] ?? NaN);
  return port > 0 && port < 65536 ? port : undefined;
}

/**
 * Names whoever holds a port a worker needs, when a child fails for it: a line of its output says
 * the address is in use, or it exits while another process listens on a port it listened on
 * before. The usual culprit is an old server nobody stopped, often one devsup itself started and a
 * crash left behind; the event says which it is and how to stop it.
 */
export function watchPortConflicts(bus: Bus, opts: { root: string; spec(worker: string): WorkerSpec | undefined }): () => void {
  if (!listeningSupported) return () => undefined;
  const told = new Set<string>();
  const lastOutput = new Map<string, string>();

  const report = async (worker: string, generation: number, ports: number[]): Promise<void> => {
    const fresh = ports.filter((p) => !told.has(`${worker}:${generation}:${p}`));
    if (fresh.length === 0) return;
    for (const p of fresh) told.add(`${worker}:${generation}:${p}`);
    if (told.size > 1000) told.clear();
    for (const port of fresh) {
      const { holders, unreadable } = await portHolders(port);
      if (holders.length === 0 && unreadable.length === 0) continue;
      bus.emit({ type: 'port-taken', worker, generation, port, holders: await judge(opts.root, holders), otherUsers: unreadable });
    }
  };

  const safely = (p: Promise<void>): void => {
    p.catch((err: unknown) => bus.emit({ type: 'warning', message: `could not look up who holds the port: ${errorMessage(err)}` }));
  };

  return bus.on((e: DevsupEvent) => {
    if (e.type === 'output' && IN_USE.test(e.line)) {
      // Node names the address on the line after `Error:` in some versions; two lines together cover both.
      const port = portInLine(e.line) ?? portInLine(lastOutput.get(e.worker) ?? '');
      if (port !== undefined) safely(report(e.worker, e.generation, [port]));
      else safely(learnedPorts(opts.spec(e.worker)).then((ports) => report(e.worker, e.generation, ports)));
    } else if (e.type === 'output') {
      lastOutput.set(e.worker, e.line);
    } else if (e.type === 'exited') {
      safely(learnedPorts(opts.spec(e.worker)).then((ports) => report(e.worker, e.generation, ports)));
    }
  });
}

async function learnedPorts(spec: WorkerSpec | undefined): Promise<number[]> {
  if (!spec || spec.kind !== 'service') return [];
  return (await loadLearned(spec.portsFile, JSON.stringify(spec.command)))?.tcp ?? [];
}

/** Each holder with the verdict `devsup ps` would give it and the command that stops it. */
async function judge(root: string, holders: Awaited<ReturnType<typeof portHolders>>['holders']): Promise<PortHolderInfo[]> {
  const scan = holders.length > 0 ? await scanProject(root).catch(() => undefined) : undefined;
  return holders.map((h) => {
    const seen = scan?.processes.find((p) => p.pid === h.pid && p.start === h.start);
    const info: PortHolderInfo = {
      pid: h.pid,
      command: h.argv.map(shq).join(' '),
      startedAt: h.startedAt,
      inProject: seen !== undefined,
      stop: seen?.verdict === 'stale' ? `devsup ps --kill (or kill ${h.pid})` : `kill ${h.pid}`,
    };
    if (seen) info.stale = seen.verdict === 'stale';
    if (h.devsup) info.devsup = h.devsup;
    return info;
  });
}
