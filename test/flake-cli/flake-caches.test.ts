import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { CLI_TIMEOUT_MS, project, savedLogs } from './project.js';

/** Fails if a cache left by an earlier run is still there, then leaves one for the next run. */
const CHECK = `
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
if (existsSync('__pycache__')) { console.log('stale cache seen by run ' + process.env.FLAKE_RUN); process.exit(1); }
mkdirSync('__pycache__');
writeFileSync('__pycache__/m.cpython-312.pyc', 'bytecode');
`;

function pythonAvailable(): boolean {
  try {
    execFileSync('python3', ['-c', 'pass'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

describe('devsup flake: caches', () => {
  it('--clear python removes the caches before every run', async () => {
    const dir = project();
    writeTree(dir, { 'check.mjs': CHECK, '__pycache__/old.pyc': 'x', 'pkg/__pycache__/mod.pyc': 'x', 'pkg/mod.py': '' });
    const r = await runDevsup(['flake', '-n', '3', '-j', '1', '--clear', 'python', '--', 'node', 'check.mjs'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('0 of 3 failed: failure rate below 63.2% with 95% confidence');
    expect(existsSync(join(dir, 'pkg', '__pycache__'))).toBe(false);
    expect(existsSync(join(dir, 'pkg', 'mod.py'))).toBe(true);
    expect(r.stderr).not.toMatch(/warning/);
  }, 90_000);

  it('--no-clear leaves them, so every run sees the one before', async () => {
    const dir = project();
    writeTree(dir, { 'check.mjs': CHECK, 'pkg/__pycache__/mod.pyc': 'x', 'node_modules/.cache/x.json': '{}' });
    const r = await runDevsup(['flake', '-n', '3', '-j', '1', '--no-clear', '--', 'node', 'check.mjs'], dir, CLI_TIMEOUT_MS);
    expect(r.code).toBe(1);
    // The first run makes the cache, the next two find it.
    expect(r.stdout.split('\n')[0]).toMatch(/^2 of 3 failed/);
    expect(savedLogs(r.stdout, dir).map((l) => l.run)).toEqual([2, 3]);
    expect(existsSync(join(dir, 'pkg', '__pycache__', 'mod.pyc'))).toBe(true);
    // Not even the presets a node command implies.
    expect(existsSync(join(dir, 'node_modules', '.cache', 'x.json'))).toBe(true);
  }, 90_000);

  it('clears the presets implied by the command when no --clear is given', async () => {
    const dir = project();
    writeTree(dir, { 'node_modules/.cache/babel/x.json': '{}', 'node_modules/dep/index.js': '', 'pkg/__pycache__/mod.pyc': 'x' });
    const r = await runDevsup(['flake', '-n', '2', '--', 'node', '-e', '0'], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(0);
    expect(existsSync(join(dir, 'node_modules', '.cache'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', 'dep', 'index.js'))).toBe(true);
    // Not a Python command: its bytecode is not this command's business.
    expect(existsSync(join(dir, 'pkg', '__pycache__', 'mod.pyc'))).toBe(true);
  }, 90_000);

  it.skipIf(!pythonAvailable())('Python runs share one bytecode directory across runs and sessions, and an edit still reaches the next run', async () => {
    const dir = project();
    writeTree(dir, { 'mod.py': 'X = "aaa"\n' });
    const mod = join(dir, 'mod.py');
    const hourAgo = Date.now() / 1000 - 3600;
    utimesSync(mod, hourAgo, hourAgo);
    const script = 'import os, sys, json, mod; print("prefix=" + os.environ["PYTHONPYCACHEPREFIX"]); print("X=" + mod.X); sys.exit(4)';
    // This machine may set PYTHONDONTWRITEBYTECODE; the runs must be allowed to write bytecode.
    const env = { PYTHONDONTWRITEBYTECODE: undefined, PYTHONPYCACHEPREFIX: undefined };
    const session = async () => {
      const p = new DevsupProcess(['flake', '-n', '3', '-j', '1', '--', 'python3', '-c', script], { cwd: dir, env });
      p.proc.stdin!.end();
      const res = await p.exit;
      expect(res.code, p.text()).toBe(1);
      return savedLogs(p.text('stdout'), dir).map((l) => readFileSync(l.path, 'utf8'));
    };
    const prefix = join(dir, '.devsup', 'pycache', 'flake');
    const first = await session();
    expect(first.map((o) => /^prefix=(.+)$/m.exec(o)?.[1])).toEqual([prefix, prefix, prefix]);
    expect(first.map((o) => /^X=(.+)$/m.exec(o)?.[1])).toEqual(['aaa', 'aaa', 'aaa']);
    const jsonPyc = join(prefix, dirname(jsonInit()), readdirSync(join(prefix, dirname(jsonInit()))).find((n) => n.startsWith('__init__.'))!);
    const ino = statSync(jsonPyc).ino;
    expect(readdirSync(join(dir, '.devsup', 'pycache')).filter((n) => n.endsWith('.lock'))).toEqual([]);

    // Same size, mtime put back: only the file's state tells the next session it changed.
    const sec = Math.floor(statSync(mod).mtimeMs / 1000);
    writeFileSync(mod, 'X = "bbb"\n');
    utimesSync(mod, sec, sec);
    const second = await session();
    expect(second.map((o) => /^X=(.+)$/m.exec(o)?.[1])).toEqual(['bbb', 'bbb', 'bbb']);
    expect(statSync(jsonPyc).ino, 'the standard library compiled once').toBe(ino);
  }, 90_000);
});

describe('devsup flake: a project’s first session', () => {
  it.skipIf(!pythonAvailable())('gets the bytecode of code outside the project from the interpreter’s __pycache__, never the project’s own', async () => {
    const dir = project();
    writeTree(dir, { 'mod.py': 'X = "aaa"\n' });
    const mod = join(dir, 'mod.py');
    const hourAgo = Date.now() / 1000 - 3600;
    utimesSync(mod, hourAgo, hourAgo);
    const env = { PYTHONDONTWRITEBYTECODE: undefined, PYTHONPYCACHEPREFIX: undefined };
    // Plain Python leaves a __pycache__ in the project; a same-size edit with its mtime put back
    // makes it lie (plain python3 would print aaa).
    execFileSync('python3', ['-c', 'import mod'], { cwd: dir, env: { ...process.env, ...env } });
    const sec = Math.floor(statSync(mod).mtimeMs / 1000);
    writeFileSync(mod, 'X = "bbb"\n');
    utimesSync(mod, sec, sec);
    expect(execFileSync('python3', ['-c', 'import mod; print(mod.X)'], { cwd: dir, env: { ...process.env, ...env }, encoding: 'utf8' }).trim(), 'the trap is live').toBe('aaa');

    // The run lasts long enough for its imports to be seen, and fails so its output is kept.
    const script = 'import json, time, mod; time.sleep(1); print("X=" + mod.X); raise SystemExit(4)';
    const p = new DevsupProcess(['flake', '-n', '2', '-j', '1', '--', 'python3', '-c', script], { cwd: dir, env });
    p.proc.stdin!.end();
    expect((await p.exit).code, p.text()).toBe(1);
    expect(savedLogs(p.text('stdout'), dir).map((l) => /^X=(.+)$/m.exec(readFileSync(l.path, 'utf8'))?.[1])).toEqual(['bbb', 'bbb']);

    const prefix = join(dir, '.devsup', 'pycache', 'flake');
    const jsonDir = dirname(jsonInit());
    const own = readdirSync(join(jsonDir, '__pycache__')).filter((n) => n.startsWith('tool.') && /^tool\.[a-z]+-\d+\.pyc$/.test(n));
    // json.tool is never imported: only seeding puts it there, copied from the interpreter's own.
    if (own.length > 0) expect(readFileSync(join(prefix, jsonDir, own[0]!))).toEqual(readFileSync(join(jsonDir, '__pycache__', own[0]!)));
    const stale = readdirSync(join(dir, '__pycache__')).find((n) => n.startsWith('mod.'))!;
    expect(readFileSync(join(prefix, dir, stale))).not.toEqual(readFileSync(join(dir, '__pycache__', stale)));
  }, 90_000);
});

describe('devsup flake: a hostile bytecode directory', () => {
  it.skipIf(!pythonAvailable())('refuses a symlink in place of .devsup/pycache and runs nothing', async () => {
    const dir = project();
    const outside = tempDir('devsup-outside-');
    symlinkSync(outside, join(dir, '.devsup', 'pycache'));
    const r = await runDevsup(['flake', '-n', '2', '--', 'python3', '-c', 'open("ran", "w")'], dir, CLI_TIMEOUT_MS);
    expect(r.code).toBe(73);
    expect(r.stderr).toMatch(/pycache is a symlink/);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
    expect(readdirSync(outside)).toEqual([]);
  }, 90_000);
});

/** Where this python3 has json/__init__.py. */
function jsonInit(): string {
  return execFileSync('python3', ['-c', 'import json; print(json.__file__)'], { encoding: 'utf8' }).trim();
}
