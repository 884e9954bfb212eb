import { mkdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAge } from '../../src/stale/age.js';
import { ancestorsOf, rootPaths, selectProjectProcesses } from '../../src/stale/membership.js';
import type { ProcInfo } from '../../src/process/table.js';
import { MAX_NEWER, scanProject, startToleranceMs } from '../../src/stale/scan.js';
import { isSourceFile, listSources } from '../../src/stale/sources.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { IDLE_JS, killAll, startReady, type Started } from './project.js';

const ME = 1000;
const SELF = 500;

function row(pid: number, over: Partial<ProcInfo> = {}): ProcInfo {
  return { pid, ppid: 1, pgid: pid, uid: ME, state: 'S', start: String(pid * 10), startMs: 1_000, cmdline: ['node', 'x.js'], ...over };
}

describe('selectProjectProcesses', () => {
  const root = rootPaths('/p/app');
  const opts = { selfPid: SELF, uid: ME };
  const pids = (table: ProcInfo[], o = opts) => selectProjectProcesses(table, root, o).map((r) => r.pid);

  it('takes processes working under the root or naming a file under it, resolved against their own cwd', () => {
    const table = [
      row(10, { cwd: '/p/app' }),
      row(11, { cwd: '/p/app/src/deep' }),
      row(12, { cwd: '/home/u', cmdline: ['node', '/p/app/server.js'] }),
      row(13, { cwd: '/p/other', cmdline: ['python3', '../app/x.py'] }),
      row(14, { cwd: '/home/u', cmdline: ['node', '--require=/p/app/hook.cjs', 'elsewhere.js'] }),
      row(15, { cwd: '/p/application', cmdline: ['node', 'x.js'] }),
      row(16, { cwd: '/home/u', cmdline: ['node', 'app/x.js'] }),
      row(17, { cmdline: ['node', 'relative/x.js'] }), // no cwd known: a relative word means nothing
    ];
    expect(pids(table)).toEqual([10, 11, 12, 13, 14]);
  });

  it('leaves out devsup, its ancestors and children, other users, zombies and kernel threads', () => {
    const table = [
      row(1, { ppid: 0, cwd: '/p/app', cmdline: ['/sbin/init'] }),
      row(400, { ppid: 1, cwd: '/p/app', cmdline: ['sh', '-c', 'devsup ps'] }),
      row(SELF, { ppid: 400, cwd: '/p/app' }),
      row(501, { ppid: SELF, cwd: '/p/app', cmdline: ['getconf', 'CLK_TCK'] }),
      row(20, { uid: ME + 1, cwd: '/p/app' }),
      row(21, { state: 'Z', cwd: '/p/app' }),
      row(22, { ppid: 2, cwd: '/p/app', cmdline: [] }),
      row(23, { cwd: '/p/app' }),
    ];
    expect(pids(table)).toEqual([23]);
    expect([...ancestorsOf(SELF, table)].sort((a, b) => a - b)).toEqual([1, 400, SELF]);
    expect(pids(table, { ...opts, uid: undefined } as never)).toEqual([20, 23]);
  });

  it('leaves out interactive shells and editors, but not a shell that runs something', () => {
    const table = [
      row(30, { cwd: '/p/app', cmdline: ['-bash'] }),
      row(31, { cwd: '/p/app', cmdline: ['/usr/bin/zsh', '-l'] }),
      row(32, { cwd: '/p/app', cmdline: ['vim', 'src/app.py'] }),
      row(33, { cwd: '/p/app', cmdline: ['sh', '-c', 'node server.js'] }),
      row(34, { cwd: '/p/app', cmdline: ['bash', 'run.sh'] }),
    ];
    expect(pids(table)).toEqual([33, 34]);
  });
});

describe('listSources', () => {
  it('keeps source files by extension, skips the watch filter defaults and .gitignore, most recently changed (ctime) first', async () => {
    const root = tempDir('devsup-sources-');
    writeTree(root, {
      'a.py': '', 'b/c.ts': '', 'conf.yaml': '', '.env': '', 'pkg.json': '',
      'README.md': '', 'logo.png': '', 'x.pyc': '', 'out.log': '',
      '__pycache__/a.cpython-311.pyc': '', 'node_modules/m/i.js': '', '.git/h.json': '',
      '.venv/s.py': '', 'dist/b.js': '', 'build/c.js': '', '.devsup/h.json': '',
      '.gitignore': 'secret/\n', 'secret/k.py': '',
    });
    const t = Date.now() / 1000 - 100;
    await waitFor(() => Date.now() > statSync(join(root, 'pkg.json')).ctimeMs + 20, 'a tick past the writes');
    // An mtime put in the past is no older to the ctime: setting it is a change.
    utimesSync(join(root, 'b/c.ts'), t, t);
    await waitFor(() => Date.now() > statSync(join(root, 'b/c.ts')).ctimeMs + 20, 'a tick past the utime');
    writeFileSync(join(root, 'a.py'), 'x = 1\n');
    const files = await listSources(root);
    expect(files.map((f) => f.rel).slice(0, 2)).toEqual(['a.py', 'b/c.ts']);
    expect(files.map((f) => f.rel).sort()).toEqual(['.env', 'a.py', 'b/c.ts', 'conf.yaml', 'pkg.json']);
    expect(isSourceFile('/x/.env.local')).toBe(true);
    expect(isSourceFile('/x/app.pyc')).toBe(false);
  });
});

describe('scanProject', () => {
  it('calls stale only a change (ctime) past the start by more than the tolerance, against the files of its language', async () => {
    const root = tempDir('devsup-tolerance-');
    writeTree(root, { 'app.py': '', 'web.js': '' });
    const ctimeMs = statSync(join(root, 'app.py')).ctimeMs;
    const tol = startToleranceMs();
    expect(tol).toBeGreaterThan(0);
    expect(tol).toBeLessThan(100);
    const py = ['python3', 'x.py'];
    const table = [
      row(60, { cwd: root, startMs: ctimeMs - tol + 5, cmdline: py }),
      row(61, { cwd: root, startMs: ctimeMs - tol - 5, cmdline: py }),
      row(62, { cwd: root, startMs: ctimeMs + 50, cmdline: py }),
      // A node process cannot have loaded app.py; web.js is older than it.
      row(63, { cwd: root, startMs: statSync(join(root, 'web.js')).ctimeMs + 50, cmdline: ['node', 'x.js'] }),
    ];
    const scan = await scanProject(root, { table, selfPid: SELF, uid: ME, now: () => ctimeMs + 1000 });
    expect(scan.processes.map((p) => [p.pid, p.verdict, p.evidence])).toEqual([
      [61, 'stale', 'ctime'],
      [60, 'fresh', 'ctime'],
      [62, 'fresh', 'ctime'],
      [63, 'fresh', 'ctime'],
    ]);
    expect(scan.processes[0]!.changed.map((f) => [f.rel, f.content])).toEqual([['app.py', 'unknown']]);
    expect(scan.processes[0]!.changed[0]!.afterStartMs).toBeCloseTo(tol + 5, 0);
    expect(scan.processes[0]!.ageMs).toBeCloseTo(1000 + tol + 5, 0);
  });

  it('keeps the newest few files per process but counts them all, and lists wrappers without judging them', async () => {
    const root = tempDir('devsup-many-');
    const files = Object.fromEntries(Array.from({ length: MAX_NEWER + 5 }, (_, i) => [`f${String(i).padStart(2, '0')}.js`, '']));
    writeTree(root, files);
    const t = Date.now() / 1000 - 100;
    // Each utime moves its file's ctime; file timestamps come from a coarse clock, so one tick apart.
    let last = 0;
    for (const [i, rel] of Object.keys(files).entries()) {
      await waitFor(() => Date.now() > last + 15, 'a tick past the previous change');
      utimesSync(join(root, rel), t + i, t + i);
      last = statSync(join(root, rel)).ctimeMs;
    }
    const table = [
      row(70, { cwd: root, startMs: t * 1000 - 1000, cmdline: ['node', 'x.js'] }),
      row(71, { cwd: root, startMs: t * 1000 - 1000, cmdline: ['npm exec vitest', '', '', ''] }),
    ];
    const [p, npm] = (await scanProject(root, { table, selfPid: SELF, uid: ME })).processes;
    expect(p!.changedCount).toBe(MAX_NEWER + 5);
    expect(p!.changed).toHaveLength(MAX_NEWER);
    expect(p!.changed[0]!.rel).toBe(`f${MAX_NEWER + 4}.js`);
    expect(npm).toMatchObject({ role: 'wrapper', label: 'npm', verdict: 'none', changedCount: 0 });
    expect(npm!.command).toBe("'npm exec vitest'");
    expect(npm!.argv).toEqual(['npm exec vitest', '', '', '']);
  });

  it('finds a real process run from outside the root with a relative path into it', async () => {
    const parent = tempDir('devsup-outside-');
    const root = join(parent, 'proj');
    writeTree(root, { 'idle.js': IDLE_JS });
    mkdirSync(join(parent, 'elsewhere'));
    let p: Started | undefined;
    try {
      p = await startReady([process.execPath, '../proj/idle.js'], join(parent, 'elsewhere'));
      // Looked at from the runner's parent: devsup leaves out its own children, and this one is the worker's.
      const scan = await scanProject(root, { selfPid: process.ppid });
      expect(scan.processes.map((x) => [x.pid, x.verdict, x.cwd])).toEqual([[p.id.pid, 'fresh', join(dirname(root), 'elsewhere')]]);
      expect(scan.processes[0]!.start).toBe(p.id.start);
    } finally {
      await killAll(p);
    }
  });
});

describe('formatAge', () => {
  it.each([
    [0, '0ms'],
    [850, '850ms'],
    [4_250, '4.2s'],
    [37_900, '37s'],
    [252_000, '4m12s'],
    [3 * 3600_000 + 5 * 60_000, '3h05m'],
    [2 * 86_400_000 + 4 * 3600_000, '2d04h'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatAge(ms)).toBe(text);
  });
});
