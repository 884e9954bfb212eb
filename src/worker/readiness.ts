import { stripVTControlCharacters as stripAnsi } from 'node:util';
import type { EventOf, Listeners } from '../core/events.js';
import { missingWarning, type LearnedReadiness } from './learned-ready.js';
import type { Child } from './port.js';
import { waitForPort } from './ready.js';
import type { WorkerSpec } from './spec.js';

/**
 * Readiness: how a generation shows it serves. Each way is a probe, a function that watches one
 * generation and resolves with an outcome; the runner turns the outcome into an input of the
 * machine (`readySeen` or `readyTimedOut`). A probe never decides anything about the lifecycle.
 */

export type ReadyHow = EventOf<'ready'>['how'];

export type ReadyOutcome =
  | { kind: 'ready'; how: ReadyHow; ports?: number[]; listening?: Listeners }
  /** Gave up waiting: the generation counts as ready, with this warning. */
  | { kind: 'timed-out'; how: ReadyHow; message: string; listening?: Listeners };

/** Lines of the generation's output as they arrive (ANSI codes still in). */
export interface LineTap {
  on(listener: (line: string) => void): void;
}

export interface ReadyContext {
  spec: WorkerSpec;
  gen: number;
  child: Child;
  lines: LineTap;
  /** Aborted when the generation stops or exits; the probe then resolves undefined. */
  signal: AbortSignal;
}

export type ReadinessProbe = (ctx: ReadyContext) => Promise<ReadyOutcome | undefined>;

/** Ready once a line of output matches. */
export function logProbe(re: RegExp): ReadinessProbe {
  return ({ lines, signal }) =>
    new Promise((resolve) => {
      let done = false;
      signal.addEventListener('abort', () => ((done = true), resolve(undefined)), { once: true });
      lines.on((line) => {
        if (done || !re.test(stripAnsi(line))) return;
        done = true;
        resolve({ kind: 'ready', how: 'log' });
      });
    });
}

/** Ready once something accepts TCP connections on host:port. */
export function portProbe(port: number, host: string): ReadinessProbe {
  return async ({ signal }) => ((await waitForPort(port, host, signal)) ? { kind: 'ready', how: 'port', ports: [port] } : undefined);
}

/**
 * Nothing configured: ready once the tree listens again on what earlier generations listened on
 * (learned-ready.ts), or once spawned when nothing is known to be awaited.
 */
export function learnedProbe(learned: LearnedReadiness, timeoutMs?: number): ReadinessProbe {
  return async ({ gen, child, signal }) => {
    const r = await learned.waitReady(gen, child.pid, signal);
    if (signal.aborted) return undefined;
    if (!r) return { kind: 'ready', how: 'started' };
    const warning = missingWarning(r, timeoutMs);
    return warning ? { kind: 'timed-out', how: 'ports', message: warning, listening: r.listening } : { kind: 'ready', how: 'ports', listening: r.listening };
  };
}

/**
 * The probe for a worker, or undefined when it is ready as soon as it is spawned. Configured
 * readiness always wins; `unconfigured` is what applies without it (a probe that learns the ports
 * an earlier generation listened on, say). Tasks are ready when a run passes, not by a probe.
 */
export function probeFor(spec: WorkerSpec, unconfigured?: ReadinessProbe): ReadinessProbe | undefined {
  if (spec.kind === 'task') return undefined;
  const r = spec.ready;
  if (!r) return unconfigured;
  return 'log' in r ? logProbe(r.log) : portProbe(r.port, r.host);
}
