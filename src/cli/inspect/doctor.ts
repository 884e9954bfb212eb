import { formatFindings, runChecks } from '../../doctor/index.js';
import { formatAge } from '../../stale/age.js';
import type { ProjectProcess } from '../../stale/scan.js';
import type { DoctorCliOptions } from './commands.js';
import { evidenceLines, localTime, processJson } from './format.js';
import { projectDir } from './root.js';
import { scanWithSupervisors } from './scan.js';

/** Exit 1 when a hazard is found (a stale process is one); info findings alone do not fail. */
export async function doctorCommand(dir: string | undefined, opts: DoctorCliOptions): Promise<number> {
  const root = projectDir(dir);
  const [findings, scan] = await Promise.all([runChecks([root]), scanWithSupervisors(root)]);
  const stale = scan.processes.filter((p) => p.verdict === 'stale');
  const hazards = findings.filter((f) => f.severity === 'hazard').length + stale.length;

  if (opts.json) {
    const doc = { findings, staleProcesses: stale.map(processJson) };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    return hazards > 0 ? 1 : 0;
  }
  const blocks = [...stale.map(staleBlock), ...formatFindings(findings, root)];
  const summary = hazards === 0 ? 'no hazards found' : `${hazards} ${hazards === 1 ? 'hazard' : 'hazards'} found`;
  process.stdout.write(`${[...blocks, summary].join('\n\n')}\n`);
  return hazards > 0 ? 1 : 0;
}

/** Shaped like formatFindings' blocks, so the report reads as one list. */
function staleBlock(p: ProjectProcess): string {
  const evidence = `started ${localTime(p.startMs)} (${formatAge(p.ageMs)} ago); ${evidenceLines(p).join('; ')}: it still runs the code from before`;
  const fix = p.supervisedBy
    ? `devsup restart${p.supervisedBy.worker === undefined ? '' : ` ${p.supervisedBy.worker}`} (or let devsup restart it: it does on every change unless held)`
    : `restart it; devsup ps --kill stops it with its process tree, and devsup run restarts it on every change`;
  return [`HAZARD  stale-process  pid ${p.pid}  ${p.command}`, `  evidence: ${evidence}`, `  fix: ${fix}`].join('\n');
}
