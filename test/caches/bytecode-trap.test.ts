import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearCaches } from '../../src/caches/clear.js';
import { BytecodePrefix, pythonEnv } from '../../src/caches/pycache-prefix.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { anHourAgo, editKeepingMtime, findFiles, inode, mtimeSec, pycOf, python, pythonSnapshots, setMtime } from './python-rig.js';

const MAIN = 'import json, email.parser, mod\nprint(mod.X)\n';

/** A project, a prefix over it and a way to start "generations" on it as a worker does. */
function rig(files: Record<string, string> = {}) {
  const dir = tempDir('devsup-pyc-');
  writeTree(dir, { 'main.py': MAIN, 'mod.py': 'X = "aaa"\n', ...files });
  // Old mtimes: the stats are trusted, as they are for anything not written this instant.
  for (const f of ['main.py', 'mod.py', ...Object.keys(files)]) setMtime(join(dir, f), anHourAgo());
  const prefixDir = tempDir('devsup-prefix-');
  const prefix = new BytecodePrefix(prefixDir, [dir]);
  const snaps = pythonSnapshots(dir);
  const mod = join(dir, 'mod.py');
  /** Readies the prefix for the tree as it is now, then runs the child on it. */
  const removed: number[] = [];
  const generation = async (env: Record<string, string> = {}): Promise<string> => {
    removed.push((await prefix.prepare(await snaps.take())).removed);
    return python(dir, ['main.py'], { ...pythonEnv(prefixDir), ...env });
  };
  /** The child started without devsup readying the prefix: what a reused prefix alone would do. */
  const unprepared = (): string => python(dir, ['main.py'], pythonEnv(prefixDir));
  return { dir, prefixDir, prefix, snaps, mod, generation, unprepared, removed };
}

describe('the Python stale-bytecode trap', () => {
  it('is live: plain python3 runs the old code after a same-size edit in the same second', () => {
    const dir = tempDir('devsup-pyc-');
    writeTree(dir, { 'main.py': MAIN, 'mod.py': 'X = "aaa"\n' });
    setMtime(join(dir, 'mod.py'), anHourAgo());
    expect(python(dir, ['main.py'])).toBe('aaa');
    const [pyc] = findFiles(join(dir, '__pycache__'), /^mod\..*\.pyc$/);
    const header = readFileSync(join(dir, '__pycache__', pyc!)).subarray(0, 16);
    // A timestamp pyc (flags 0) recording the whole-second mtime and the 10-byte size.
    expect([header.readUInt32LE(4), header.readUInt32LE(8), header.readUInt32LE(12)]).toEqual([0, mtimeSec(join(dir, 'mod.py')), 10]);
    editKeepingMtime(join(dir, 'mod.py'), 'X = "bbb"\n');
    expect(python(dir, ['main.py'])).toBe('aaa');
    // -B only stops writing; the stale file is still read.
    expect(python(dir, ['-B', 'main.py'])).toBe('aaa');
  });

  it('clearCaches with the python preset makes plain python3 run the new code', async () => {
    const dir = tempDir('devsup-pyc-');
    writeTree(dir, { 'main.py': MAIN, 'mod.py': 'X = "aaa"\n' });
    setMtime(join(dir, 'mod.py'), anHourAgo());
    expect(python(dir, ['main.py'])).toBe('aaa');
    editKeepingMtime(join(dir, 'mod.py'), 'X = "bbb"\n');
    const res = await clearCaches({ roots: [dir], presets: ['python'], globs: [] });
    expect(res.errors).toEqual([]);
    expect(res.paths).toEqual([join(dir, '__pycache__')]);
    expect(python(dir, ['main.py'])).toBe('bbb');
  });
});

describe('a bytecode prefix kept across generations', () => {
  it('same-size edit in the same second: the next generation runs the new code', async () => {
    const r = rig();
    expect(await r.generation()).toBe('aaa');
    editKeepingMtime(r.mod, 'X = "bbb"\n');
    // The trap is live in the kept prefix: unprepared, Python trusts the old bytecode.
    expect(r.unprepared()).toBe('aaa');
    expect(await r.generation()).toBe('bbb');
    editKeepingMtime(r.mod, 'X = "ccc"\n');
    expect(await r.generation()).toBe('ccc');
  });

  it('mtime put back with touch -d', async () => {
    const r = rig();
    expect(await r.generation()).toBe('aaa');
    const sec = mtimeSec(r.mod);
    writeFileSync(r.mod, 'X = "ddd"\n');
    execFileSync('touch', ['-d', `@${sec}`, r.mod]);
    expect(mtimeSec(r.mod)).toBe(sec);
    expect(r.unprepared()).toBe('aaa');
    expect(await r.generation()).toBe('ddd');
  });

  it('mtime carried over by cp -p from a same-size file', async () => {
    const r = rig({ 'other.txt': 'X = "eee"\n' });
    expect(await r.generation()).toBe('aaa');
    setMtime(join(r.dir, 'other.txt'), mtimeSec(r.mod));
    execFileSync('cp', ['-p', join(r.dir, 'other.txt'), r.mod]);
    expect(statSync(r.mod).size).toBe(10);
    expect(r.unprepared()).toBe('aaa');
    expect(await r.generation()).toBe('eee');
  });

  it('mtime put back with os.utime by Python itself', async () => {
    const r = rig();
    expect(await r.generation()).toBe('aaa');
    const sec = mtimeSec(r.mod);
    python(r.dir, ['-c', `import os\nopen("mod.py","w").write('X = "fff"\\n')\nos.utime("mod.py", (${sec}, ${sec}))`]);
    expect(r.unprepared()).toBe('aaa');
    expect(await r.generation()).toBe('fff');
  });

  it('an edit made and undone while the previous generation compiled: its bytecode is not served', async () => {
    const r = rig();
    const sec = mtimeSec(r.mod);
    // Generation 1 is readied for mod.py = aaa, but the file says bbb when the child compiles it.
    const first = await r.snaps.take();
    await r.prefix.prepare(first);
    editKeepingMtime(r.mod, 'X = "bbb"\n');
    expect(python(r.dir, ['main.py'], pythonEnv(r.prefixDir))).toBe('bbb');
    // Undone, mtime and size as before: the content is what generation 1 started on.
    editKeepingMtime(r.mod, 'X = "aaa"\n');
    expect(mtimeSec(r.mod)).toBe(sec);
    expect(r.unprepared()).toBe('bbb');
    // By content nothing changed since generation 1 started: only the file's ctime tells.
    expect((await pythonSnapshots(r.dir).take()).codeId).toBe(first.codeId);
    expect(await r.generation()).toBe('aaa');
    expect(r.removed).toEqual([1]);
  });

  it('an edit landing after the previous generation read the old content', async () => {
    const r = rig();
    expect(await r.generation()).toBe('aaa');
    // Generation 1 compiled aaa (its pyc records aaa's mtime and size); bbb arrives with both kept.
    editKeepingMtime(r.mod, 'X = "bbb"\n');
    expect(r.unprepared()).toBe('aaa');
    expect(await r.generation()).toBe('bbb');
  });

  it('compiles the standard library once and reuses it; only the edited module is compiled again', async () => {
    const r = rig();
    expect(await r.generation()).toBe('aaa');
    const stdlib = findFiles(r.prefixDir, /^parser\.cpython-\d+\.pyc$/).map((rel) => join(r.prefixDir, rel));
    expect(stdlib.length, 'email/parser compiled into the prefix').toBeGreaterThan(0);
    const count = findFiles(r.prefixDir, /\.pyc$/).length;
    const stdIno = inode(stdlib[0]!);
    for (const v of ['bbb', 'ccc', 'ddd']) {
      editKeepingMtime(r.mod, `X = "${v}"\n`);
      expect(await r.generation()).toBe(v);
    }
    expect(inode(stdlib[0]!)).toBe(stdIno);
    // Only mod.py's bytecode went each time (inode numbers of removed files are reused).
    expect(r.removed).toEqual([0, 1, 1, 1]);
    expect(findFiles(r.prefixDir, /\.pyc$/).length).toBe(count);
  });

  it('keeps the bytecode of files that did not change', async () => {
    const r = rig({ 'keep.py': 'Y = 1\n' });
    writeFileSync(join(r.dir, 'main.py'), 'import keep, mod\nprint(mod.X)\n');
    setMtime(join(r.dir, 'main.py'), anHourAgo());
    expect(await r.generation()).toBe('aaa');
    const keepIno = inode(pycOf(r.prefixDir, r.dir, 'keep')[0]!);
    editKeepingMtime(r.mod, 'X = "bbb"\n');
    expect(await r.generation()).toBe('bbb');
    expect(inode(pycOf(r.prefixDir, r.dir, 'keep')[0]!)).toBe(keepIno);
  });

  it('a new process knows nothing of what the prefix holds: its first start drops the project’s bytecode', async () => {
    const r = rig();
    expect(await r.generation()).toBe('aaa');
    const stdlib = findFiles(r.prefixDir, /^parser\.cpython-\d+\.pyc$/).map((rel) => join(r.prefixDir, rel));
    const stdIno = inode(stdlib[0]!);
    // Edited while no devsup ran, mtime kept.
    editKeepingMtime(r.mod, 'X = "zzz"\n');
    const again = new BytecodePrefix(r.prefixDir, [r.dir]);
    const { removed } = await again.prepare(await pythonSnapshots(r.dir).take());
    expect(removed).toBe(1);
    expect(python(r.dir, ['main.py'], pythonEnv(r.prefixDir))).toBe('zzz');
    expect(inode(stdlib[0]!)).toBe(stdIno);
  });
});

describe('Python files the worker does not watch', () => {
  it('under the project but ignored: their bytecode is dropped before every start', async () => {
    const dir = tempDir('devsup-pyc-');
    writeTree(dir, { 'main.py': 'import gen.util as u\nprint(u.X)\n', 'gen/__init__.py': '', 'gen/util.py': 'X = "aaa"\n' });
    const util = join(dir, 'gen', 'util.py');
    setMtime(util, anHourAgo());
    const prefixDir = tempDir('devsup-prefix-');
    const prefix = new BytecodePrefix(prefixDir, [dir]);
    const snaps = pythonSnapshots(dir, ['gen']);
    const start = async () => {
      const snap = await snaps.take();
      expect(snap.files.has(util), 'gen/ is not watched').toBe(false);
      return { removed: (await prefix.prepare(snap)).removed, out: python(dir, ['main.py'], pythonEnv(prefixDir)) };
    };
    expect((await start()).out).toBe('aaa');
    editKeepingMtime(util, 'X = "bbb"\n');
    const second = await start();
    expect(second.out).toBe('bbb');
    // util and its package's __init__, though nothing told devsup they changed.
    expect(second.removed).toBe(2);
  });

  it('inside a virtual environment in the project: kept, like installed packages anywhere', async () => {
    const dir = tempDir('devsup-pyc-');
    const site = '.venv/lib/python3/site-packages';
    writeTree(dir, { 'main.py': 'import pkg\nprint(pkg.X)\n', [`${site}/pkg.py`]: 'X = "aaa"\n' });
    const prefixDir = tempDir('devsup-prefix-');
    const prefix = new BytecodePrefix(prefixDir, [dir]);
    const snaps = pythonSnapshots(dir);
    const env = { ...pythonEnv(prefixDir), PYTHONPATH: join(dir, site) };
    await prefix.prepare(await snaps.take());
    expect(python(dir, ['main.py'], env)).toBe('aaa');
    const [pyc] = pycOf(prefixDir, join(dir, site), 'pkg');
    const ino = inode(pyc!);
    expect((await prefix.prepare(await snaps.take())).removed).toBe(0);
    expect((await new BytecodePrefix(prefixDir, [dir]).prepare(await snaps.take())).removed).toBe(0);
    expect(inode(pyc!)).toBe(ino);
  });

  it('outside the watched roots: Python’s own check only — a reinstall is seen, a same-size same-second edit is not', async () => {
    const dir = tempDir('devsup-pyc-');
    const lib = tempDir('devsup-lib-');
    writeTree(dir, { 'main.py': 'import extlib\nprint(extlib.X)\n' });
    writeTree(lib, { 'extlib.py': 'X = "aaa"\n' });
    const file = join(lib, 'extlib.py');
    setMtime(file, anHourAgo());
    const prefixDir = tempDir('devsup-prefix-');
    const prefix = new BytecodePrefix(prefixDir, [dir]);
    const snaps = pythonSnapshots(dir);
    const start = async () => {
      await prefix.prepare(await snaps.take());
      return python(dir, ['main.py'], { ...pythonEnv(prefixDir), PYTHONPATH: lib });
    };
    expect(await start()).toBe('aaa');
    const ino = inode(pycOf(prefixDir, lib, 'extlib')[0]!);
    expect(await start()).toBe('aaa');
    expect(inode(pycOf(prefixDir, lib, 'extlib')[0]!), 'reused across starts').toBe(ino);
    // What pip does: new file, new mtime.
    copyFileSync(file, `${file}.new`);
    writeFileSync(`${file}.new`, 'X = "bbbb"\n');
    execFileSync('mv', [`${file}.new`, file]);
    expect(await start()).toBe('bbbb');
    // Not guaranteed, and said so in the README: size and whole-second mtime kept.
    editKeepingMtime(file, 'X = "cccc"\n');
    expect(await start()).toBe('bbbb');
  });
});

describe('pytest under a kept prefix', () => {
  it('reuses its rewritten test modules, and a same-size same-second edit of a test still counts', async () => {
    const dir = tempDir('devsup-pyc-');
    writeTree(dir, { 'test_x.py': 'def test_x():\n    assert 1 == 1\n' });
    const file = join(dir, 'test_x.py');
    setMtime(file, anHourAgo());
    const prefixDir = tempDir('devsup-prefix-');
    const prefix = new BytecodePrefix(prefixDir, [dir]);
    const snaps = pythonSnapshots(dir);
    const run = async () => {
      const { removed } = await prefix.prepare(await snaps.take());
      try {
        python(dir, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_x.py'], pythonEnv(prefixDir));
        return { removed, passed: true };
      } catch {
        return { removed, passed: false };
      }
    };
    expect(await run()).toEqual({ removed: 0, passed: true });
    const rewritten = findFiles(join(prefixDir, dir), /^test_x\..*-pytest-.*\.pyc$/);
    expect(rewritten, 'pytest wrote its rewritten module into the prefix').toHaveLength(1);
    const ino = inode(join(prefixDir, dir, rewritten[0]!));
    expect(await run()).toEqual({ removed: 0, passed: true });
    expect(inode(join(prefixDir, dir, rewritten[0]!))).toBe(ino);
    // Same size, same second: pytest alone would run the old assertion from its cache.
    editKeepingMtime(file, 'def test_x():\n    assert 1 == 2\n');
    expect(python(dir, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_x.py'], pythonEnv(prefixDir)), 'the trap is live').toMatch(/1 passed/);
    expect(await run()).toEqual({ removed: 1, passed: false });
  });
});

