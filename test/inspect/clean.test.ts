import { existsSync, lstatSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

/** One artifact per preset, plus files that must survive. */
const TREE: Record<string, string> = {
  'app.py': 'print(1)\n',
  '__pycache__/app.cpython-311.pyc': 'p'.repeat(100),
  'pkg/__pycache__/m.cpython-311.pyc': 'p'.repeat(50),
  '.pytest_cache/v/cache/lastfailed': 'r'.repeat(20),
  'node_modules/.cache/babel/a.json': 'b'.repeat(300),
  'node_modules/.vite/deps/react.js': 'v'.repeat(400),
  'node_modules/react/index.js': 'keep',
  'tsconfig.tsbuildinfo': 't'.repeat(9),
  'scratch/tmp.txt': 's'.repeat(3),
  'keep.txt': 'keep',
};
const REMOVED = [
  '.pytest_cache',
  '__pycache__',
  'node_modules/.cache',
  'node_modules/.vite',
  'pkg/__pycache__',
  'tsconfig.tsbuildinfo',
];
const BYTES = 100 + 50 + 20 + 300 + 400 + 9;

/** The paths a clean run printed, in its order. */
const listed = (stdout: string, verb: string) =>
  stdout.split('\n').filter((l) => l.startsWith(`${verb} `)).map((l) => l.slice(verb.length + 1));

describe('devsup clean', () => {
  it('--dry-run deletes nothing and lists exactly what a real clean then removes, with the bytes', async () => {
    const root = tempDir('devsup-clean-');
    writeTree(root, TREE);

    const dry = await runDevsup(['clean', '--dry-run'], root);
    expect(dry.code, dry.stderr).toBe(0);
    expect(listed(dry.stdout, 'would remove')).toEqual(REMOVED);
    expect(dry.stdout).toContain(`6 paths, 879 B (${BYTES} bytes) would be freed in ${root}`);
    for (const rel of Object.keys(TREE)) expect(existsSync(join(root, rel)), rel).toBe(true);

    const real = await runDevsup(['clean', root], tempDir());
    expect(real.code, real.stderr).toBe(0);
    expect(listed(real.stdout, 'removed')).toEqual(REMOVED);
    expect(real.stdout).toContain(`6 paths removed, 879 B (${BYTES} bytes) freed in ${root}`);
    for (const rel of REMOVED) expect(existsSync(join(root, rel)), rel).toBe(false);
    for (const rel of ['app.py', 'node_modules/react/index.js', 'scratch/tmp.txt', 'keep.txt']) {
      expect(readFileSync(join(root, rel), 'utf8'), rel).toBe(TREE[rel]);
    }

    const again = await runDevsup(['clean'], root);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(`nothing to clean in ${root}`);
  });

  it('--clear clears exactly what it names: presets, globs, or both', async () => {
    const root = tempDir('devsup-clean-narrow-');
    writeTree(root, TREE);
    const pytest = await runDevsup(['clean', '--dry-run', '--clear', 'pytest'], root);
    expect(listed(pytest.stdout, 'would remove')).toEqual(['.pytest_cache']);

    const withGlob = await runDevsup(['clean', '--dry-run', '--clear', 'scratch/**'], root);
    // Only the glob: `dir/**` matches the directory itself as well, so it goes whole.
    expect(listed(withGlob.stdout, 'would remove')).toEqual(['scratch']);

    const both = await runDevsup(['clean', '--clear', 'python,scratch/**'], root);
    expect(listed(both.stdout, 'removed')).toEqual(['__pycache__', 'pkg/__pycache__', 'scratch']);
    expect(existsSync(join(root, '.pytest_cache'))).toBe(true);

    // A glob that matches sources is refused, as by run.
    const all = await runDevsup(['clean', '--clear', '*'], root);
    expect(all.code).toBe(2);
    expect(all.stderr).toMatch(/^devsup: clear glob "\*" matches source files \(app\.py.*\), which this clean would delete; .*--clear-sources/);
    expect(existsSync(join(root, 'app.py'))).toBe(true);

    const bad = await runDevsup(['clean', '--clear', 'pyhton'], root);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^devsup: unknown --clear preset "pyhton"/);
  });

  it('never follows a symlink out of the directory: the outside tree is left untouched', async () => {
    const outside = tempDir('devsup-clean-outside-');
    const OUTSIDE: Record<string, string> = {
      '__pycache__/o.cpython-311.pyc': 'o'.repeat(10),
      '.pytest_cache/x': 'x',
      'lib.tsbuildinfo': 't',
      'node_modules/.vite/deps/a.js': 'v',
      'sub/__pycache__/s.cpython-311.pyc': 's',
    };
    writeTree(outside, OUTSIDE);
    const root = tempDir('devsup-clean-links-');
    writeTree(root, { 'app.py': '', 'src/__pycache__/own.cpython-311.pyc': 'x'.repeat(7) });
    // A linked directory is never walked; a link named like a cache is removed as a link, never through.
    symlinkSync(outside, join(root, 'vendor'));
    symlinkSync(join(outside, '__pycache__'), join(root, '__pycache__'));
    symlinkSync(join(outside, 'lib.tsbuildinfo'), join(root, 'linked.tsbuildinfo'));

    const r = await runDevsup(['clean'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(listed(r.stdout, 'removed')).toEqual(['__pycache__', 'linked.tsbuildinfo', 'src/__pycache__']);
    expect(r.stdout).toContain('(7 bytes) freed');
    for (const [rel, content] of Object.entries(OUTSIDE)) {
      expect(readFileSync(join(outside, rel), 'utf8'), rel).toBe(content);
    }
    expect(lstatSync(join(root, 'vendor')).isSymbolicLink()).toBe(true);
    expect(existsSync(join(root, '__pycache__'))).toBe(false);
  });

  it('rejects a directory that does not exist', async () => {
    const r = await runDevsup(['clean', 'nope'], tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe('devsup: directory does not exist: nope');
  });
});

describe('devsup clean: the bytecode devsup’s own Python children wrote', () => {
  it('removes .devsup/pycache with the python preset, and only then', async () => {
    const root = tempDir('devsup-clean-');
    writeTree(root, { 'app.py': 'print(1)\n', '.devsup/pycache/w-main/usr/lib/json.cpython-311.pyc': 'p'.repeat(70), '.devsup/history.jsonl': '{}\n' });
    const other = await runDevsup(['clean', '--clear', 'node'], root);
    expect(other.code, other.stderr).toBe(0);
    expect(existsSync(join(root, '.devsup/pycache'))).toBe(true);

    const dry = await runDevsup(['clean', '--dry-run'], root);
    expect(listed(dry.stdout, 'would remove')).toEqual(['.devsup/pycache']);
    expect(dry.stdout).toContain('1 path, 70 B (70 bytes) would be freed');
    const real = await runDevsup(['clean', '--clear', 'python'], root);
    expect(real.code, real.stderr).toBe(0);
    expect(listed(real.stdout, 'removed')).toEqual(['.devsup/pycache']);
    expect(existsSync(join(root, '.devsup/pycache'))).toBe(false);
    expect(existsSync(join(root, '.devsup/history.jsonl'))).toBe(true);
  });

  it('refuses a symlink in its place and leaves what it points to', async () => {
    const root = tempDir('devsup-clean-');
    const outside = tempDir('devsup-outside-');
    writeTree(outside, { 'a.cpython-311.pyc': 'x' });
    writeTree(root, { 'app.py': '', '.devsup/history.jsonl': '' });
    symlinkSync(outside, join(root, '.devsup/pycache'));
    const r = await runDevsup(['clean'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/not a directory/);
    expect(existsSync(join(outside, 'a.cpython-311.pyc'))).toBe(true);
    expect(lstatSync(join(root, '.devsup/pycache')).isSymbolicLink()).toBe(true);
  });
});
