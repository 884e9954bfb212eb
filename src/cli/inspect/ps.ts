import { createInterface } from 'node:readline/promises';
import { UsageError } from '../../core/errors.js';
import { stopStale, type KillOutcome } from '../../stale/kill.js';
import type { ScanResult } from '../../stale/scan.js';
import type { PsOptions } from './commands.js';
import { processJson, processTable } from './format.js';
import { projectDir } from './root.js';
import { protectedPids, scanWithSupervisors } from './scan.js';

/** Grace between SIGTERM and SIGKILL for each stale tree. */
const KILL_GRACE_MS = 3000;

interface KillReport {
  confirmed: boolean;
  outcomes: KillOutcome[];
}

/**
 * Exit status: 1 while stale processes run. Without --kill that is whenever one is found; with
 * --kill it is what is left afterwards, so `devsup ps --kill --yes && start` goes on only once the
 * old trees are gone. A refusal to kill without confirmation is a usage error (2).
 */
export async function psCommand(opts: PsOptions): Promise<number> {
  const root = projectDir(opts.root, '--root');
  const scan = await scanWithSupervisors(root);
  const stale = scan.processes.filter((p) => p.verdict === 'stale');
  if (!opts.kill) {
    print(scan, null, opts.json);
    return stale.length > 0 ? 1 : 0;
  }
  if (stale.length === 0) {
    print(scan, { confirmed: true, outcomes: [] }, opts.json);
    return 0;
  }
  const what = `${stale.length} stale process ${stale.length === 1 ? 'tree' : 'trees'}`;
  if (!opts.yes && !process.stdin.isTTY) {
    print(scan, { confirmed: false, outcomes: [] }, opts.json);
    throw new UsageError(`not killing ${what} without confirmation: no terminal to ask on; add --yes to kill them`);
  }
  if (!opts.json) print(scan, null, false);
  if (!opts.yes && !(await confirm(`kill ${what}? [y/N] `))) {
    if (opts.json) print(scan, { confirmed: false, outcomes: [] }, true);
    else process.stdout.write('nothing killed\n');
    return 1;
  }
  const outcomes = await stopStale(stale, { graceMs: KILL_GRACE_MS, protect: protectedPids(scan) });
  if (opts.json) print(scan, { confirmed: true, outcomes }, true);
  else process.stdout.write(`${outcomes.map(describe).join('\n')}\n`);
  return outcomes.every((o) => o.result === 'stopped' || o.result === 'covered' || o.result === 'gone') ? 0 : 1;
}

function print(scan: ScanResult, kill: KillReport | null, json: boolean | undefined): void {
  if (!json) {
    process.stdout.write(`${processTable(scan).join('\n')}\n`);
    return;
  }
  const doc = {
    root: scan.root,
    scannedAt: new Date(scan.scannedAtMs).toISOString(),
    toleranceMs: scan.toleranceMs,
    sourceFiles: scan.sourceCount,
    indexFound: scan.indexFound,
    processes: scan.processes.map(processJson),
    staleCount: scan.processes.filter((p) => p.verdict === 'stale').length,
    kill,
  };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

function describe(o: KillOutcome): string {
  const who = `pid ${o.pid} (${o.command})`;
  switch (o.result) {
    case 'stopped': {
      const others = o.treeSize - 1;
      const tree = others > 0 ? ` with ${others} more ${others === 1 ? 'process' : 'processes'} of its tree` : '';
      return `stopped ${who}${tree}${o.forced ? ', by SIGKILL after the grace period' : ''}`;
    }
    case 'survived':
      return `could not stop ${who}: still alive: ${o.survivors.join(', ')}`;
    case 'covered':
      return `stopped ${who} ${o.reason ?? ''}`.trimEnd();
    case 'gone':
      return `${who} had already exited`;
    case 'skipped':
      return `skipped ${who}: ${o.reason ?? ''}`;
  }
}
