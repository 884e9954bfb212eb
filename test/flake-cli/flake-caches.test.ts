import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDevsup } from '../helpers/devsup.js';
import { writeTree } from '../helpers/tmp.js';
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

  it.skipIf(!pythonAvailable())('gives every Python run a bytecode directory of its own, removed afterwards', async () => {
    const dir = project();
    const script = 'import os, sys; print("prefix=" + os.environ["PYTHONPYCACHEPREFIX"]); sys.exit(4)';
    const r = await runDevsup(['flake', '-n', '3', '-j', '3', '--', 'python3', '-c', script], dir, CLI_TIMEOUT_MS);
    expect(r.code, r.stderr).toBe(1);
    const prefixes = savedLogs(r.stdout, dir).map((l) => /^prefix=(.+)$/m.exec(readFileSync(l.path, 'utf8'))?.[1]);
    expect(prefixes).toHaveLength(3);
    expect(new Set(prefixes).size).toBe(3);
    for (const p of prefixes) {
      expect(p?.startsWith(join(dir, '.devsup', 'pycache'))).toBe(true);
      expect(existsSync(p!)).toBe(false);
    }
    // Nothing is left behind for the session either.
    expect(readdirSync(join(dir, '.devsup', 'pycache'))).toEqual([]);
  }, 90_000);
});
