import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prunePycache, removePycache } from '../../src/caches/pycache-prune.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

/** A pyc of `size` bytes last used `ageSec` seconds ago. */
function pyc(path: string, size: number, ageSec: number): string {
  writeTree('/', { [path]: 'x'.repeat(size) });
  const t = Date.now() / 1000 - ageSec;
  utimesSync(path, t, t);
  return path;
}

describe('prunePycache', () => {
  it('leaves a prefix under the limit alone', async () => {
    const root = tempDir('devsup-pycache-');
    const a = pyc(join(root, 'w-app/usr/lib/a.cpython-311.pyc'), 100, 10);
    expect(await prunePycache(root, 1000)).toEqual({ before: 100, removed: 0, freed: 0 });
    expect(existsSync(a)).toBe(true);
  });

  it('removes the least recently used bytecode first, down to three quarters of the limit', async () => {
    const root = tempDir('devsup-pycache-');
    const files = [400, 300, 200, 100].map((age, i) => pyc(join(root, `w-app/x/m${i}.cpython-311.pyc`), 100, age));
    pyc(join(root, 'flake/y/t.cpython-311.pyc.12345'), 100, 500);
    const res = await prunePycache(root, 400);
    // 500 bytes; 300 is three quarters of 400: the two oldest go (the temp file and m0).
    expect(res).toEqual({ before: 500, removed: 2, freed: 200 });
    expect(files.map(existsSync)).toEqual([false, true, true, true]);
  });

  it('never removes anything but bytecode, never follows or removes a symlink', async () => {
    const root = tempDir('devsup-pycache-');
    const outside = tempDir('devsup-outside-');
    const theirs = pyc(join(outside, 'theirs.cpython-311.pyc'), 1000, 9999);
    symlinkSync(outside, join(root, 'linked-dir'));
    symlinkSync(theirs, join(root, 'linked.cpython-311.pyc'));
    writeTree(root, { 'w-app/README': 'x'.repeat(1000), 'w-app.lock': '1\n' });
    const own = pyc(join(root, 'w-app/m.cpython-311.pyc'), 10, 1);
    await prunePycache(root, 5);
    expect(existsSync(theirs)).toBe(true);
    expect(existsSync(join(root, 'linked-dir'))).toBe(true);
    expect(existsSync(join(root, 'linked.cpython-311.pyc'))).toBe(true);
    expect(existsSync(join(root, 'w-app/README'))).toBe(true);
    expect(existsSync(own)).toBe(false);
  });

  it('removes the per-generation directories of earlier versions', async () => {
    const root = tempDir('devsup-pycache-');
    mkdirSync(join(root, 'gen-3-abc/x'), { recursive: true });
    mkdirSync(join(root, 'flake-20250101/run-1'), { recursive: true });
    mkdirSync(join(root, 'w-gen-1'), { recursive: true });
    await prunePycache(root);
    expect(readdirSync(root)).toEqual(['w-gen-1']);
  });

  it('does nothing when the root is a symlink', async () => {
    const outside = tempDir('devsup-outside-');
    const theirs = pyc(join(outside, 'gen-1-x/a.cpython-311.pyc'), 1000, 9999);
    const state = tempDir('devsup-state-');
    symlinkSync(outside, join(state, 'pycache'));
    expect(await prunePycache(join(state, 'pycache'), 1)).toEqual({ before: 0, removed: 0, freed: 0 });
    expect(existsSync(theirs)).toBe(true);
  });
});

describe('removePycache', () => {
  it('removes everything, or measures it in a dry run', async () => {
    const root = join(tempDir('devsup-state-'), 'pycache');
    pyc(join(root, 'w-app/a.cpython-311.pyc'), 100, 1);
    pyc(join(root, 'flake/b.cpython-311.pyc'), 50, 1);
    expect(await removePycache(root, true)).toEqual({ paths: [root], bytes: 150, errors: [] });
    expect(existsSync(root)).toBe(true);
    expect(await removePycache(root, false)).toEqual({ paths: [root], bytes: 150, errors: [] });
    expect(existsSync(root)).toBe(false);
    expect(await removePycache(root, false)).toEqual({ paths: [], bytes: 0, errors: [] });
  });

  it('keeps the lock of a live process and removes the rest', async () => {
    const root = join(tempDir('devsup-state-'), 'pycache');
    pyc(join(root, 'w-app/a.cpython-311.pyc'), 100, 1);
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    trackPid(sleeper.pid);
    const exited = new Promise((r) => sleeper.once('exit', r));
    try {
      writeFileSync(join(root, 'w-app.lock'), `${sleeper.pid}\n`);
      writeFileSync(join(root, 'flake.lock'), '999999999\n');
      const res = await removePycache(root, false);
      expect(res.paths.sort()).toEqual([join(root, 'flake.lock'), join(root, 'w-app')]);
      expect(readdirSync(root)).toEqual(['w-app.lock']);
    } finally {
      sleeper.kill('SIGKILL');
      await exited;
    }
  });

  it('refuses a symlink in place of the directory', async () => {
    const outside = tempDir('devsup-outside-');
    pyc(join(outside, 'a.cpython-311.pyc'), 10, 1);
    const state = tempDir('devsup-state-');
    symlinkSync(outside, join(state, 'pycache'));
    const res = await removePycache(join(state, 'pycache'), false);
    expect(res.paths).toEqual([]);
    expect(res.errors[0]).toMatch(/not a directory/);
    expect(readdirSync(outside)).toEqual(['a.cpython-311.pyc']);
  });
});
