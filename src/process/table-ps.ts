import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import psList from 'ps-list';
import type { ProcInfo } from './table.js';
import { lstartToMs } from './proc-start.js';

// The portable path (macOS and other Unixes), best effort: ps-list gives ppid, uid and the command;
// `ps` adds what ps-list lacks (pgid, state and the exact lstart string that procId also uses).
// No cwd: that would cost one lsof per process.

const run = promisify(execFile);

export async function readPsTable(): Promise<ProcInfo[]> {
  const [list, extra] = await Promise.all([psList(), readPgidStateStart()]);
  const out: ProcInfo[] = [];
  for (const p of list) {
    const x = extra.get(p.pid);
    // Not in both snapshots: started or ended between the two ps runs.
    if (!x) continue;
    out.push({
      pid: p.pid,
      ppid: p.ppid,
      pgid: x.pgid,
      uid: p.uid ?? -1,
      state: x.state,
      start: x.lstart,
      startMs: lstartToMs(x.lstart) ?? p.startTime?.getTime() ?? 0,
      cmdline: (p.cmd ?? p.name).split(' ').filter((s) => s !== ''),
    });
  }
  return out;
}

interface PsExtra {
  pgid: number;
  state: string;
  lstart: string;
}

export async function readPgidStateStart(): Promise<Map<number, PsExtra>> {
  const { stdout } = await run('ps', ['-A', '-o', 'pid=,pgid=,stat=,lstart='], {
    env: { ...process.env, LC_ALL: 'C' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = new Map<number, PsExtra>();
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.+?)\s*$/.exec(line);
    if (m?.[1] && m[2] && m[3] && m[4]) out.set(Number(m[1]), { pgid: Number(m[2]), state: m[3], lstart: m[4] });
  }
  return out;
}
