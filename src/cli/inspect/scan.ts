import { scanProject, type ProjectProcess, type ScanResult } from '../../stale/scan.js';
import { askOverSocket, findSupervisorLocks } from './supervisors.js';

/** The scan ps and doctor share: devsup supervisors found by their locks and asked for their workers' verdicts. */
export async function scanWithSupervisors(root: string): Promise<ScanResult> {
  const locks = await findSupervisorLocks([root]);
  return scanProject(root, { devsupPids: new Set(locks.map((l) => l.pid)), askSupervisors: askOverSocket(locks) });
}

/** Processes --kill must leave alone whatever their verdict, with why: devsup supervisors. */
export function protectedPids(scan: ScanResult): Map<number, string> {
  const out = new Map<number, string>();
  const isDevsup = (p: ProjectProcess) => p.role === 'supervisor' && p.label.startsWith('devsup ');
  for (const p of scan.processes) if (isDevsup(p)) out.set(p.pid, `pid ${p.pid}, a devsup supervisor`);
  return out;
}
