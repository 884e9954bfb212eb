import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearCaches } from '../../src/caches/clear.js';
import { freshPycachePrefix, pythonEnv } from '../../src/caches/pycache-prefix.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

/**
 * The environment of every python3 child here. Variables that would change where bytecode goes,
 * whether it is written, or how py_compile validates it are removed so the test sees Python's
 * defaults whatever the machine sets (this one sets PYTHONDONTWRITEBYTECODE=1).
 */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['PYTHONPYCACHEPREFIX', 'PYTHONDONTWRITEBYTECODE', 'SOURCE_DATE_EPOCH', 'PYTHONSAFEPATH']) delete env[k];
  return env;
}

function python(cwd: string, args: string[], extraEnv: Record<string, string> = {}): string {
  return execFileSync('python3', args, {
    cwd,
    env: { ...baseEnv(), ...extraEnv },
    encoding: 'utf8',
    timeout: 20_000,
  }).trim();
}

/** Files under `dir` (recursively) whose name matches. */
function findFiles(dir: string, re: RegExp): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((rel) => re.test(rel.split('/').pop() ?? ''));
}

/**
 * Rewrites mod.py with same-size content and puts back the mtime the pyc header recorded: what an
 * edit within the same second looks like to Python, made deterministic.
 */
function editKeepingSizeAndMtime(dir: string, value: string, mtime: number): void {
  const src = join(dir, 'mod.py');
  writeFileSync(src, `X = "${value}"\n`);
  utimesSync(src, mtime, mtime);
}

/** A project whose __pycache__ holds bytecode for X = "aaa" while the source says X = "bbb". */
function staleProject(): { dir: string; mtime: number } {
  const dir = tempDir('devsup-pyc-');
  const mtime = Math.floor(Date.now() / 1000) - 3600;
  writeTree(dir, { 'main.py': 'import mod\nprint(mod.X)\n' });
  editKeepingSizeAndMtime(dir, 'aaa', mtime);
  python(dir, ['-c', 'import py_compile; py_compile.compile("mod.py", doraise=True)']);

  const [pyc] = findFiles(join(dir, '__pycache__'), /^mod\..*\.pyc$/);
  expect(pyc, 'py_compile wrote __pycache__/mod.<tag>.pyc').toBeDefined();
  const header = readFileSync(join(dir, '__pycache__', pyc!)).subarray(0, 16);
  // Timestamp-validated pyc (flags 0) recording exactly this whole-second mtime and 10-byte size.
  expect([header.readUInt32LE(4), header.readUInt32LE(8), header.readUInt32LE(12)]).toEqual([0, mtime, 10]);

  editKeepingSizeAndMtime(dir, 'bbb', mtime);
  expect(statSync(join(dir, 'mod.py')).size).toBe(10);
  return { dir, mtime };
}

describe('the Python stale-bytecode trap', () => {
  it('is live: plain python3 runs the old code although the source changed', () => {
    const { dir } = staleProject();
    expect(readFileSync(join(dir, 'mod.py'), 'utf8')).toContain('bbb');
    expect(python(dir, ['main.py'])).toBe('aaa');
    // -B only stops writing; the stale file is still read.
    expect(python(dir, ['-B', 'main.py'])).toBe('aaa');
  });

  it('a fresh PYTHONPYCACHEPREFIX makes python3 run the new code, leaving __pycache__ alone', async () => {
    const { dir } = staleProject();
    const prefix = await freshPycachePrefix(tempDir('devsup-state-'), 1);
    expect(python(dir, ['main.py'], pythonEnv(prefix))).toBe('bbb');
    expect(findFiles(prefix, /^mod\..*\.pyc$/), 'Python compiled into the prefix').toHaveLength(1);
    expect(python(dir, ['main.py'])).toBe('aaa');
  });

  it('needs a new prefix per generation: a reused one serves stale bytecode in turn', async () => {
    const { dir, mtime } = staleProject();
    const state = tempDir('devsup-state-');
    const gen1 = await freshPycachePrefix(state, 1);
    expect(python(dir, ['main.py'], pythonEnv(gen1))).toBe('bbb');
    editKeepingSizeAndMtime(dir, 'ccc', mtime);
    expect(python(dir, ['main.py'], pythonEnv(gen1))).toBe('bbb');
    const gen2 = await freshPycachePrefix(state, 2);
    expect(python(dir, ['main.py'], pythonEnv(gen2))).toBe('ccc');
  });

  it('clearCaches with the python preset makes plain python3 run the new code', async () => {
    const { dir } = staleProject();
    expect(python(dir, ['main.py'])).toBe('aaa');
    const res = await clearCaches({ roots: [dir], presets: ['python'], globs: [] });
    expect(res.errors).toEqual([]);
    expect(res.paths).toEqual([join(dir, '__pycache__')]);
    expect(res.bytes).toBeGreaterThan(16);
    expect(python(dir, ['main.py'])).toBe('bbb');
  });
});
