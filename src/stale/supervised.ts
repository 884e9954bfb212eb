import type { ProcInfo } from '../process/table.js';
import { classify, type ClassifyContext } from './roles.js';

/** A devsup supervisor above a runner, and the runner's ancestor that is its worker (maybe the runner itself). */
export interface SupervisorLink {
  supervisor: { pid: number; start: string; cwd?: string };
  workerPid: number;
}

/** What a supervisor said of its workers, or why it could not be asked. */
export type SupervisorAnswer =
  | { ok: true; workers: { name: string; pid: number | null; verdict: string; staleFiles: string[] }[] }
  | { ok: false; reason: string };

/** Asks each supervisor (by pid) for its workers; given by the caller, which owns the control socket. */
export type AskSupervisors = (supervisors: SupervisorLink['supervisor'][]) => Promise<Map<number, SupervisorAnswer>>;

export interface SupervisedBy {
  supervisorPid: number;
  /** The worker's name, when the supervisor listed it. */
  worker?: string;
  verdict: 'stale' | 'fresh' | 'unknown';
  staleFiles: string[];
  /** Why the verdict is unknown. */
  reason?: string;
}

const MAX_DEPTH = 64;

/** The nearest devsup supervisor above `row` in the process tree, if any. */
export function supervisorOf(row: ProcInfo, byPid: ReadonlyMap<number, ProcInfo>, ctx: ClassifyContext): SupervisorLink | undefined {
  let below = row;
  for (let depth = 0, p = byPid.get(row.ppid); p !== undefined && depth < MAX_DEPTH; depth++, p = byPid.get(p.ppid)) {
    const kind = classify(p, ctx);
    if (kind.role === 'supervisor' && kind.label.startsWith('devsup ')) {
      const supervisor = p.cwd === undefined ? { pid: p.pid, start: p.start } : { pid: p.pid, start: p.start, cwd: p.cwd };
      return { supervisor, workerPid: below.pid };
    }
    if (p.pid <= 1) return undefined;
    below = p;
  }
  return undefined;
}

/** Asks every supervisor once and returns how each link is judged. */
export async function judgeSupervised(
  links: readonly SupervisorLink[],
  ask: AskSupervisors | undefined,
): Promise<(link: SupervisorLink) => SupervisedBy> {
  const unique = new Map(links.map((l) => [l.supervisor.pid, l.supervisor]));
  const answers = unique.size === 0 || !ask ? new Map<number, SupervisorAnswer>() : await ask([...unique.values()]);
  return (link) => {
    const supervisorPid = link.supervisor.pid;
    const answer = answers.get(supervisorPid);
    if (!answer) return { supervisorPid, verdict: 'unknown', staleFiles: [], reason: 'not asked' };
    if (!answer.ok) return { supervisorPid, verdict: 'unknown', staleFiles: [], reason: answer.reason };
    const w = answer.workers.find((x) => x.pid === link.workerPid);
    if (!w) {
      return { supervisorPid, verdict: 'unknown', staleFiles: [], reason: 'not one of its running workers: being stopped, or left over' };
    }
    if (w.verdict === 'fresh' || w.verdict === 'stale') return { supervisorPid, worker: w.name, verdict: w.verdict, staleFiles: w.staleFiles };
    const why = w.verdict === 'checking' ? 'still comparing its files' : `reports ${w.verdict}`;
    return { supervisorPid, worker: w.name, verdict: 'unknown', staleFiles: [], reason: why };
  };
}
