import { mkdirSync, realpathSync, statSync, utimesSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatAge } from '../../src/stale/age.js';
import { ancestorsOf, rootPaths, selectProjectProcesses } from '../../src/stale/membership.js';
import type { ProcInfo } from '../../src/process/table.js';
import { MAX_NEWER, scanProject, startToleranceMs } from '../../src/stale/scan.js';
import { isSourceFile, listSources } from '../../src/stale/sources.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
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

  it('leaves out other devsup instances, recognised by their resolved entry script', () => {
    const dir = tempDir('devsup-selfscript-');
    writeTree(dir, { 'bin/devsup.js': '' });
    const script = realpathSync(join(dir, 'bin/devsup.js'));
    const table = [
      row(40, { cwd: '/p/app', cmdline: ['node', join(dir, 'bin/devsup.js'), 'run', '--', 'node', 'x.js'] }),
      row(41, { cwd: '/p/app', cmdline: ['node', 'x.js'] }),
    ];
    expect(pids(table, { ...opts, selfScript: script } as never)).toEqual([41]);
  });
});

describe('listSources', () => {
  it('keeps source files by extension, skips the watch filter defaults and .gitignore, newest first', async () => {
    const root = tempDir('devsup-sources-');
    writeTree(root, {
      'a.py': '', 'b/c.ts': '', 'conf.yaml': '', '.env': '', 'pkg.json': '',
      'README.md': '', 'logo.png': '', 'x.pyc': '', 'out.log': '',
      '__pycache__/a.cpython-311.pyc': '', 'node_modules/m/i.js': '', '.git/h.json': '',
      '.venv/s.py': '', 'dist/b.js': '', 'build/c.js': '', '.devsup/h.json': '',
      '.gitignore': 'secret/\n', 'secret/k.py': '',
    });
    const t = Date.now() / 1000 - 100;
    utimesSync(join(root, 'b/c.ts'), t + 5, t + 5);
    utimesSync(join(root, 'a.py'), t + 3, t + 3);
    const files = await listSources(root);
    expect(files.map((f) => f.rel).slice(-2)).toEqual(['b/c.ts', 'a.py']);
    expect(files.map((f) => f.rel).sort()).toEqual(['.env', 'a.py', 'b/c.ts', 'conf.yaml', 'pkg.json']);
    expect(isSourceFile('/x/.env.local')).toBe(true);
    expect(isSourceFile('/x/app.pyc')).toBe(false);
  });
});

describe('scanProject', () => {
  it('calls stale only a modification past the start by more than the tolerance', async () => {
    const root = tempDir('devsup-tolerance-');
    writeTree(root, { 'app.py': '' });
    const mtimeMs = statSync(join(root, 'app.py')).mtimeMs;
    const tol = startToleranceMs();
    expect(tol).toBeGreaterThan(0);
    expect(tol).toBeLessThan(100);
    const table = [
      row(60, { cwd: root, startMs: mtimeMs - tol + 5 }),
      row(61, { cwd: root, startMs: mtimeMs - tol - 5 }),
      row(62, { cwd: root, startMs: mtimeMs + 50 }),
    ];
    const scan = await scanProject(root, { table, selfPid: SELF, uid: ME, now: () => mtimeMs + 1000 });
    expect(scan.processes.map((p) => [p.pid, p.verdict])).toEqual([
      [61, 'stale'],
      [60, 'fresh'],
      [62, 'fresh'],
    ]);
    expect(scan.processes[0]!.newer.map((f) => f.rel)).toEqual(['app.py']);
    expect(scan.processes[0]!.newer[0]!.afterStartMs).toBeCloseTo(tol + 5, 0);
    expect(scan.processes[0]!.ageMs).toBeCloseTo(1000 + tol + 5, 0);
  });

  it('keeps the newest few files per process but counts them all, and shows a retitled command without its empty slots', async () => {
    const root = tempDir('devsup-many-');
    const files = Object.fromEntries(Array.from({ length: MAX_NEWER + 5 }, (_, i) => [`f${String(i).padStart(2, '0')}.js`, '']));
    writeTree(root, files);
    const t = Date.now() / 1000 - 100;
    Object.keys(files).forEach((rel, i) => utimesSync(join(root, rel), t + i, t + i));
    const table = [row(70, { cwd: root, startMs: t * 1000 - 1000, cmdline: ['npm exec vitest', '', '', ''] })];
    const [p] = (await scanProject(root, { table, selfPid: SELF, uid: ME })).processes;
    expect(p!.newerCount).toBe(MAX_NEWER + 5);
    expect(p!.newer).toHaveLength(MAX_NEWER);
    expect(p!.newer[0]!.rel).toBe(`f${MAX_NEWER + 4}.js`);
    expect(p!.command).toBe("'npm exec vitest'");
    expect(p!.argv).toEqual(['npm exec vitest', '', '', '']);
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
