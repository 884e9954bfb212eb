import { describe, expect, it } from 'vitest';
import type { ProcInfo } from '../../src/process/table.js';
import { judgeSupervised, supervisorOf, type AskSupervisors } from '../../src/stale/supervised.js';

const row = (pid: number, ppid: number, cmdline: string[]): ProcInfo => ({ pid, ppid, pgid: pid, uid: 1, state: 'S', start: `${pid}0`, startMs: 1, cmdline, cwd: '/p' });

describe('supervised processes', () => {
  const table = [
    row(1, 0, ['/sbin/init']),
    row(10, 1, ['node', '/x/devsup/bin/devsup.js', 'run', '--', 'npm', 'run', 'dev']),
    row(11, 10, ['npm run dev']),
    row(12, 11, ['node', 'server.js']),
    row(20, 1, ['node', 'other.js']),
    row(30, 1, ['node', '/x/bin/cli.js', 'up']),
    row(31, 30, ['python3', 'app.py']),
  ];
  const byPid = new Map(table.map((r) => [r.pid, r]));
  const ctx = { devsupPids: new Set([30]) };

  it('finds the devsup supervisor above a process and its worker, through wrappers, by command line or lock file', () => {
    expect(supervisorOf(byPid.get(12)!, byPid, ctx)).toEqual({ supervisor: { pid: 10, start: '100', cwd: '/p' }, workerPid: 11 });
    expect(supervisorOf(byPid.get(31)!, byPid, ctx)).toEqual({ supervisor: { pid: 30, start: '300', cwd: '/p' }, workerPid: 31 });
    expect(supervisorOf(byPid.get(20)!, byPid, ctx)).toBeUndefined();
  });

  it("takes the supervisor's verdict for the worker, and says why when there is none", async () => {
    const asked: number[][] = [];
    const ask: AskSupervisors = async (sups) => {
      asked.push(sups.map((s) => s.pid));
      return new Map([
        [10, { ok: true as const, workers: [{ name: 'web', pid: 11, verdict: 'stale', staleFiles: ['server.js'] }, { name: 'db', pid: null, verdict: 'none', staleFiles: [] }] }],
        [30, { ok: false as const, reason: 'did not answer' }],
      ]);
    };
    const links = [supervisorOf(byPid.get(12)!, byPid, ctx)!, supervisorOf(byPid.get(31)!, byPid, ctx)!];
    const judge = await judgeSupervised([...links, links[0]!], ask);
    expect(asked).toEqual([[10, 30]]);
    expect(judge(links[0]!)).toEqual({ supervisorPid: 10, worker: 'web', verdict: 'stale', staleFiles: ['server.js'] });
    expect(judge(links[1]!)).toEqual({ supervisorPid: 30, verdict: 'unknown', staleFiles: [], reason: 'did not answer' });
    expect(judge({ ...links[0]!, workerPid: 99 })).toMatchObject({ verdict: 'unknown', reason: expect.stringMatching(/not one of its running workers/) });
    expect((await judgeSupervised(links, undefined))(links[0]!)).toMatchObject({ verdict: 'unknown', reason: 'not asked' });
  });
});
