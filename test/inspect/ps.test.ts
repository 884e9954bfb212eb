import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runDevsup } from '../helpers/devsup.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { IDLE_JS, SERVER_JS, alive, gone, killAll, pastStart, startReady, type Started } from './project.js';

interface PsJson {
  root: string;
  toleranceMs: number;
  processes: {
    pid: number;
    start: string;
    verdict: 'stale' | 'fresh' | 'unknown' | 'none';
    evidence: 'content' | 'ctime' | 'devsup' | null;
    role: string;
    what: string;
    command: string;
    changedFiles: { path: string; changedAt: string; afterStartMs: number; content: string; evidence: string }[];
    changedCount: number;
    touchedFiles: { path: string }[];
    touchedCount: number;
    supervisedBy: null | { supervisorPid: number; worker?: string; verdict: string };
  }[];
  staleCount: number;
  kill: null | { confirmed: boolean; outcomes: { pid: number; result: string; treeSize: number }[] };
}

const node = process.execPath;

async function psJson(root: string, extra: string[] = []): Promise<{ code: number | null; doc: PsJson; stderr: string }> {
  const r = await runDevsup(['ps', '--json', ...extra], root);
  return { code: r.code, doc: JSON.parse(r.stdout) as PsJson, stderr: r.stderr };
}

const byPid = (doc: PsJson, p: Started) => doc.processes.find((x) => x.pid === p.id.pid);

describe('devsup ps', () => {
  it('calls a process STALE once a source file changes after its start, names the file, and calls a later one fresh', async () => {
    const root = tempDir('devsup-ps-');
    writeTree(root, { 'server.js': IDLE_JS, 'src/lib.js': 'exports.x = 1;\n', 'src/app.py': 'x = 1\n', 'README.md': 'hi\n' });
    let old: Started | undefined;
    let later: Started | undefined;
    try {
      old = await startReady([node, 'server.js'], root);
      const before = await psJson(root);
      expect(before.code).toBe(0);
      // devsup itself (cwd in the root too) is not listed: only what the test started.
      expect(before.doc.processes.map((p) => [p.pid, p.verdict])).toEqual([[old.id.pid, 'fresh']]);

      await pastStart(old);
      writeFileSync(join(root, 'src/lib.js'), 'exports.x = 2;\n');
      // A node process cannot have loaded a Python file: this one changes nothing for it.
      writeFileSync(join(root, 'src/app.py'), 'x = 2\n');
      const ctimeMs = statSync(join(root, 'src/lib.js')).ctimeMs;
      later = await startReady([node, 'server.js'], root);

      const human = await runDevsup(['ps'], root);
      expect(human.code).toBe(1);
      const lines = human.stdout.split('\n');
      const row = lines.findIndex((l) => l.startsWith(`${old!.id.pid} `));
      expect(lines[row]).toMatch(/\sSTALE\s+ctime\s+node\s+\S*node server\.js$/);
      expect(lines[row + 1]).toMatch(/^\s+src\/lib\.js changed \d[\d.]*(ms|s) after start \(ctime only: no saved content from before the start, so a touch would look the same\)$/);
      expect(lines.find((l) => l.startsWith(`${later!.id.pid} `))).toMatch(/\sfresh\s+ctime\s+node\s+\S*node server\.js$/);
      expect(human.stdout).toMatch(/2 processes of .*: 1 stale/);

      const { code, doc } = await psJson(root);
      expect(code).toBe(1);
      expect(doc.processes.map((p) => p.pid)).toEqual([old.id.pid, later.id.pid]);
      expect(doc.staleCount).toBe(1);
      expect(doc.kill).toBeNull();
      const stale = byPid(doc, old)!;
      expect(stale).toMatchObject({ verdict: 'stale', evidence: 'ctime', role: 'runner', start: old.id.start, changedCount: 1 });
      expect(stale.changedFiles.map((f) => [f.path, f.content, f.evidence])).toEqual([['src/lib.js', 'unknown', 'ctime']]);
      // The delay is measured from the OS's start time to the file's own ctime.
      expect(Math.abs(stale.changedFiles[0]!.afterStartMs - (ctimeMs - old.startMs))).toBeLessThan(40);
      expect(byPid(doc, later)).toMatchObject({ verdict: 'fresh', changedFiles: [], changedCount: 0 });
    } finally {
      await killAll(old, later);
    }
  });

  it('keeps a python process fresh when only bytecode, ignored directories and non-source files change after its start', async () => {
    const root = tempDir('devsup-ps-py-');
    writeTree(root, {
      'app.py': 'import os, time, mod\nprint("ready pid=%d" % os.getpid(), flush=True)\ntime.sleep(120)\n',
      'mod.py': 'X = 1\n',
    });
    // Bytecode written the normal way, by the import, after the process started.
    const env = { ...process.env, PYTHONDONTWRITEBYTECODE: undefined, PYTHONPYCACHEPREFIX: undefined };
    let py: Started | undefined;
    try {
      py = await startReady(['python3', 'app.py'], root, env);
      const pyc = await waitFor(() => readdirPyc(root), 'the import to write __pycache__/mod.*.pyc');
      await pastStart(py);
      // A rewrite well after the start, in case the import's own write was too close to it.
      writeFileSync(pyc, readFileSync(pyc));
      writeTree(root, {
        'legacy.pyc': 'x',
        'node_modules/dep/index.js': 'module.exports = 1;\n',
        'dist/bundle.js': 'x\n',
        '.git/config.json': '{}\n',
        '.venv/lib/site.py': 'x\n',
        'notes.md': 'x\n',
      });
      expect(statSync(pyc).mtimeMs).toBeGreaterThan(py.startMs + 100);

      const fresh = await psJson(root);
      expect(fresh.code).toBe(0);
      expect(byPid(fresh.doc, py)).toMatchObject({ verdict: 'fresh', changedCount: 0 });

      writeFileSync(join(root, 'mod.py'), 'X = 2\n');
      const stale = await psJson(root);
      expect(stale.code).toBe(1);
      expect(byPid(stale.doc, py)!.changedFiles.map((f) => f.path)).toEqual(['mod.py']);
    } finally {
      await killAll(py);
    }
  });

  it('--kill --yes stops each stale process with its whole tree and leaves fresh ones running', async () => {
    const root = tempDir('devsup-ps-kill-');
    writeTree(root, { 'server.js': SERVER_JS, 'idle.js': IDLE_JS, 'lib.js': 'exports.v = 1;\n' });
    let stale: Started | undefined;
    let fresh: Started | undefined;
    try {
      stale = await startReady([node, 'server.js'], root);
      expect(stale.child).toBeDefined();
      await pastStart(stale);
      writeFileSync(join(root, 'lib.js'), 'exports.v = 2;\n');
      fresh = await startReady([node, 'idle.js'], root);

      const r = await runDevsup(['ps', '--kill', '--yes'], root);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`stopped pid ${stale.id.pid} (`);
      expect(r.stdout).toMatch(/with 1 more process of its tree/);
      // The child runs outside the project, so only the tree reached it.
      await gone(stale.id, 'the stale process');
      await gone(stale.child, 'its child');
      expect(alive(fresh.id)).toBe(true);

      const after = await psJson(root);
      expect(after.code).toBe(0);
      expect(after.doc.processes.map((p) => [p.pid, p.verdict])).toEqual([[fresh.id.pid, 'fresh']]);
    } finally {
      await killAll(stale, fresh);
    }
  });

  it('--kill --json reports each outcome in the same document', async () => {
    const root = tempDir('devsup-ps-killjson-');
    writeTree(root, { 'server.js': SERVER_JS, 'lib.js': '1;\n' });
    let stale: Started | undefined;
    try {
      stale = await startReady([node, 'server.js'], root);
      await pastStart(stale);
      writeFileSync(join(root, 'lib.js'), '2;\n');
      const { code, doc } = await psJson(root, ['--kill', '--yes']);
      expect(code).toBe(0);
      expect(doc.staleCount).toBe(1);
      expect(doc.kill).toEqual({
        confirmed: true,
        outcomes: [expect.objectContaining({ pid: stale.id.pid, result: 'stopped', treeSize: 2 })],
      });
      await gone(stale.id, 'the stale process');
      await gone(stale.child, 'its child');
    } finally {
      await killAll(stale);
    }
  });

  it('--kill without --yes and without a terminal refuses and kills nothing', async () => {
    const root = tempDir('devsup-ps-refuse-');
    writeTree(root, { 'server.js': SERVER_JS, 'lib.js': '1;\n' });
    let stale: Started | undefined;
    try {
      stale = await startReady([node, 'server.js'], root);
      await pastStart(stale);
      writeFileSync(join(root, 'lib.js'), '2;\n');
      const r = await runDevsup(['ps', '--kill'], root);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(
        'devsup: not killing 1 stale process tree without confirmation: no terminal to ask on; add --yes to kill them',
      );
      expect(r.stdout).toMatch(new RegExp(`^${stale.id.pid} .*STALE`, 'm'));
      expect(alive(stale.id)).toBe(true);
      expect(alive(stale.child)).toBe(true);
    } finally {
      await killAll(stale);
    }
  });

  it('never lists or kills the processes devsup was started from, stale as they may be', async () => {
    const root = tempDir('devsup-ps-self-');
    // A stale ancestor: it edits a source after its own start, then runs devsup from inside the project.
    writeTree(root, {
      'lib.js': '1;\n',
      'wrapper.mjs': `
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
setTimeout(() => {
  writeFileSync('lib.js', '2;\\n');
  const r = spawnSync(process.execPath, [process.argv[2], 'ps', '--json', '--kill', '--yes'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  console.log(JSON.stringify({ pid: process.pid, code: r.status, out: r.stdout, err: r.stderr }));
}, 300);
`,
    });
    const wrapper = spawn(node, ['wrapper.mjs', BIN], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    trackPid(wrapper.pid);
    let out = '';
    wrapper.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const exited = new Promise<number | null>((r) => wrapper.on('exit', (code) => r(code)));
    await waitFor(() => out.endsWith('\n'), 'the wrapper to report', 20_000);
    const report = JSON.parse(out) as { pid: number; code: number; out: string; err: string };
    expect(report.pid).toBe(wrapper.pid);
    const doc = JSON.parse(report.out) as PsJson;
    expect(report.code, report.err).toBe(0);
    expect(doc.processes).toEqual([]);
    expect(doc.kill).toEqual({ confirmed: true, outcomes: [] });
    // It lived to print the report and then ended by itself.
    expect(await exited).toBe(0);
  });

  it('rejects a --root that does not exist', async () => {
    const r = await runDevsup(['ps', '--root', 'nope'], tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('devsup: --root does not exist: nope');
  });
});

/** The bytecode the import wrote, once it is there. */
function readdirPyc(root: string): string | undefined {
  try {
    const name = readdirSync(join(root, '__pycache__')).find((n) => n.startsWith('mod.') && n.endsWith('.pyc'));
    return name && join(root, '__pycache__', name);
  } catch {
    return undefined;
  }
}
