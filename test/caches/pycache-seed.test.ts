import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BytecodePrefix, pythonEnv } from '../../src/caches/pycache-prefix.js';
import { isProject, PrefixSeeder } from '../../src/caches/pycache-seed.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { anHourAgo, baseEnv, editKeepingMtime, findFiles, inode, pycOf, python, pythonSnapshots, setMtime } from './python-rig.js';

const run = promisify(execFile);
/** This python3's cache tag, as in `mod.cpython-311.pyc`. */
const TAG = execFileSync('python3', ['-c', 'import sys; print(sys.implementation.cache_tag)'], { encoding: 'utf8' }).trim();

/** python3 without blocking the event loop: the seeder works while it runs. */
async function pythonAsync(cwd: string, args: string[], env: Record<string, string>): Promise<string> {
  // -S: no site module, so the standard library stays out of these prefixes unless a test imports it.
  const r = await run('python3', ['-S', ...args], { cwd, env: { ...baseEnv(), ...env }, encoding: 'utf8', timeout: 20_000 });
  return r.stdout.trim();
}

/**
 * A library outside the project, compiled into its own __pycache__ as an install compiles it: a
 * package of three modules (`a` imported by the package, `b` and `sub.c` imported by nobody).
 */
function library(mode: 'timestamp' | 'checked-hash' | 'unchecked-hash' = 'timestamp'): { lib: string; pkg: string } {
  const lib = tempDir('devsup-lib-');
  writeTree(lib, {
    'extpkg/__init__.py': 'from . import a\n',
    'extpkg/a.py': 'A = "a1"\n',
    'extpkg/b.py': 'B = "b1"\n',
    'extpkg/sub/__init__.py': '',
    'extpkg/sub/c.py': 'C = "c1"\n',
    'extpkg/tests/__init__.py': '',
    'extpkg/tests/test_x.py': 'T = 1\n',
  });
  for (const f of ['__init__.py', 'a.py', 'b.py', 'sub/__init__.py', 'sub/c.py', 'tests/__init__.py', 'tests/test_x.py']) setMtime(join(lib, 'extpkg', f), anHourAgo());
  execFileSync('python3', ['-m', 'compileall', '-q', '--invalidation-mode', mode, join(lib, 'extpkg')], { env: baseEnv() });
  return { lib, pkg: join(lib, 'extpkg') };
}

function project(files: Record<string, string> = {}): string {
  const dir = tempDir('devsup-pyc-');
  writeTree(dir, { 'main.py': 'import extpkg\nprint(extpkg.a.A)\n', ...files });
  for (const f of ['main.py', ...Object.keys(files)]) setMtime(join(dir, f), anHourAgo());
  return dir;
}

describe('PrefixSeeder', () => {
  it('copies the rest of a package Python started to import from its own __pycache__, byte for byte, tests left out', async () => {
    const { lib, pkg } = library();
    const dir = project();
    const prefix = tempDir('devsup-prefix-');
    expect(await pythonAsync(dir, ['main.py'], { ...pythonEnv(prefix), PYTHONPATH: lib })).toBe('a1');
    // Python compiled what it imported; nothing else of the package is in the prefix yet.
    expect(pycOf(prefix, pkg, 'b')).toEqual([]);
    const seeder = new PrefixSeeder(prefix, [dir]);
    await seeder.look();
    await seeder.stop();
    const [b] = pycOf(prefix, pkg, 'b');
    const [c] = pycOf(prefix, join(pkg, 'sub'), 'c');
    expect(b, 'a module of the package nobody imported yet').toBeDefined();
    expect(c, 'a subpackage').toBeDefined();
    expect(readFileSync(b!)).toEqual(readFileSync(join(pkg, '__pycache__', b!.split('/').pop()!)));
    expect(existsSync(join(prefix, pkg, 'tests')), 'a package’s tests are not what runs import').toBe(false);
    // Python compiled extpkg/__init__ and a; b, sub/__init__ and sub/c were copied.
    expect(findFiles(join(prefix, pkg), /\.pyc$/).sort()).toEqual(['__init__.cpython-311.pyc', 'a.cpython-311.pyc', 'b.cpython-311.pyc', 'sub/__init__.cpython-311.pyc', 'sub/c.cpython-311.pyc'].map((n) => n.replace('cpython-311', TAG)));
    // No temporary file is left beside them.
    expect(readdirSync(join(prefix, pkg)).filter((n) => !n.endsWith('.pyc') && n !== 'sub')).toEqual([]);
    // The seeded bytecode is what Python then runs, without compiling it again.
    const ino = inode(c!);
    expect(await pythonAsync(dir, ['-c', 'import extpkg.sub.c as c; print(c.C)'], { ...pythonEnv(prefix), PYTHONPATH: lib })).toBe('c1');
    expect(inode(c!)).toBe(ino);
  });

  it('a seeded pyc whose installed source changed since (same size, new mtime) is not trusted', async () => {
    const { lib, pkg } = library();
    const dir = project();
    const prefix = tempDir('devsup-prefix-');
    await pythonAsync(dir, ['main.py'], { ...pythonEnv(prefix), PYTHONPATH: lib });
    const seeder = new PrefixSeeder(prefix, [dir]);
    await seeder.look();
    await seeder.stop();
    const [b] = pycOf(prefix, pkg, 'b');
    const ino = inode(b!);
    // What a reinstall does: same size, other content, the time of the install.
    writeFileSync(join(pkg, 'b.py'), 'B = "b2"\n');
    expect(await pythonAsync(dir, ['-c', 'import extpkg.b as b; print(b.B)'], { ...pythonEnv(prefix), PYTHONPATH: lib })).toBe('b2');
    expect(inode(b!), 'Python compiled it again').not.toBe(ino);
  });

  it('copies checked hash-based bytecode, never unchecked ones, which nothing validates', async () => {
    for (const [mode, copied] of [['checked-hash', 5], ['unchecked-hash', 2]] as const) {
      const { lib, pkg } = library(mode);
      const dir = project();
      const prefix = tempDir('devsup-prefix-');
      await pythonAsync(dir, ['main.py'], { ...pythonEnv(prefix), PYTHONPATH: lib });
      const seeder = new PrefixSeeder(prefix, [dir]);
      await seeder.look();
      await seeder.stop();
      expect(findFiles(join(prefix, pkg), /\.pyc$/), mode).toHaveLength(copied);
      if (mode === 'checked-hash') {
        // Same size, same mtime: only the hash tells, and Python checks it.
        editKeepingMtime(join(pkg, 'b.py'), 'B = "b3"\n');
        expect(await pythonAsync(dir, ['-c', 'import extpkg.b as b; print(b.B)'], { ...pythonEnv(prefix), PYTHONPATH: lib })).toBe('b3');
      }
    }
  });

  it('never copies the project’s own bytecode: a stale __pycache__ in the project cannot fool the child', async () => {
    const { lib } = library();
    const dir = project({ 'mod.py': 'X = "aaa"\n', 'pkg/__init__.py': 'from . import m\n', 'pkg/m.py': 'M = "m1"\n', 'pkg/n.py': 'N = "n1"\n' });
    const main = 'import extpkg, mod, pkg, pkg.n\nprint(mod.X, pkg.m.M, pkg.n.N)\n';
    writeFileSync(join(dir, 'main.py'), main);
    // Plain Python leaves the project's __pycache__, then the trap: same size, same second.
    expect(python(dir, ['main.py'], { PYTHONPATH: lib })).toBe('aaa m1 n1');
    writeTree(dir, { 'pkg/unused.py': 'U = 1\n' });
    python(dir, ['-c', 'import pkg.unused'], { PYTHONPATH: lib });
    editKeepingMtime(join(dir, 'mod.py'), 'X = "bbb"\n');
    editKeepingMtime(join(dir, 'pkg', 'n.py'), 'N = "n2"\n');
    expect(python(dir, ['main.py'], { PYTHONPATH: lib }), 'the trap is live').toBe('aaa m1 n1');

    const prefixDir = tempDir('devsup-prefix-');
    const prefix = new BytecodePrefix(prefixDir, [dir]);
    const snaps = pythonSnapshots(dir);
    await prefix.prepare(await snaps.take());
    const seeder = new PrefixSeeder(prefixDir, [dir]);
    seeder.start();
    expect(await pythonAsync(dir, ['main.py'], { ...pythonEnv(prefixDir), PYTHONPATH: lib })).toBe('bbb m1 n2');
    await seeder.look();
    await seeder.stop();
    // pkg is a package of the project: the seeder left all of it to Python.
    expect(pycOf(prefixDir, join(dir, 'pkg'), 'unused'), 'never imported, so never in the prefix').toEqual([]);
    for (const [d, name] of [[dir, 'mod'], [join(dir, 'pkg'), 'n']] as const) {
      const [pyc] = pycOf(prefixDir, d, name);
      const stale = readdirSync(join(d, '__pycache__')).find((n) => n.startsWith(`${name}.`))!;
      expect(readFileSync(pyc!), `${name} was compiled by Python, not copied`).not.toEqual(readFileSync(join(d, '__pycache__', stale)));
    }
    // A restored mtime after seeding: the next start still runs the new code.
    const sec = Math.floor(Date.now() / 1000) - 7200;
    editKeepingMtime(join(dir, 'mod.py'), 'X = "ccc"\n');
    setMtime(join(dir, 'mod.py'), sec);
    await prefix.prepare(await snaps.take());
    expect(await pythonAsync(dir, ['main.py'], { ...pythonEnv(prefixDir), PYTHONPATH: lib })).toBe('ccc m1 n2');
  });

  it('seeds installed packages inside the project (a virtual environment), like those outside', async () => {
    const dir = project();
    const site = join(dir, '.venv', 'lib', 'python3', 'site-packages');
    mkdirSync(site, { recursive: true });
    writeTree(site, { 'vpkg/__init__.py': 'from . import a\n', 'vpkg/a.py': 'A = 1\n', 'vpkg/b.py': 'B = 2\n' });
    execFileSync('python3', ['-m', 'compileall', '-q', join(site, 'vpkg')], { env: baseEnv() });
    const prefix = tempDir('devsup-prefix-');
    await pythonAsync(dir, ['-c', 'import vpkg'], { ...pythonEnv(prefix), PYTHONPATH: site });
    const snap = await pythonSnapshots(dir).take();
    // Without knowing what is watched, nothing in the project is copied.
    const blind = new PrefixSeeder(prefix, [dir]);
    await blind.look();
    await blind.stop();
    expect(pycOf(prefix, join(site, 'vpkg'), 'b')).toHaveLength(0);
    const seeder = new PrefixSeeder(prefix, [dir], undefined, (path) => snap.files.has(path));
    await seeder.look();
    await seeder.stop();
    expect(pycOf(prefix, join(site, 'vpkg'), 'b')).toHaveLength(1);
  });

  it('never copies, and always checks, the bytecode of a watched site-packages in the project (a vendored layer)', async () => {
    const dir = project();
    const site = join(dir, 'python', 'lib', 'python3.11', 'site-packages');
    mkdirSync(site, { recursive: true });
    writeTree(site, { 'layer/__init__.py': 'from . import a\n', 'layer/a.py': 'A = "a1"\n', 'layer/b.py': 'B = "b1"\n' });
    for (const f of ['__init__.py', 'a.py', 'b.py']) setMtime(join(site, 'layer', f), anHourAgo());
    execFileSync('python3', ['-m', 'compileall', '-q', join(site, 'layer')], { env: baseEnv() });
    // The trap in its own __pycache__: same size, mtime put back.
    editKeepingMtime(join(site, 'layer', 'b.py'), 'B = "b2"\n');
    const snaps = pythonSnapshots(dir);
    const first = await snaps.take();
    expect(first.files.has(join(site, 'layer', 'b.py'))).toBe(true);
    const prefixDir = tempDir('devsup-prefix-');
    const prefix = new BytecodePrefix(prefixDir, [dir]);
    await prefix.prepare(first);
    const env = { ...pythonEnv(prefixDir), PYTHONPATH: site };
    expect(await pythonAsync(dir, ['-c', 'import layer; print(layer.a.A)'], env)).toBe('a1');
    const seeder = new PrefixSeeder(prefixDir, [dir], undefined, (path) => first.files.has(path));
    await seeder.look();
    await seeder.stop();
    expect(pycOf(prefixDir, join(site, 'layer'), 'b')).toHaveLength(0);
    expect(await pythonAsync(dir, ['-c', 'import layer.b; print(layer.b.B)'], env)).toBe('b2');
    // Edited again the same way: the prefix's own bytecode of it goes before the next start.
    editKeepingMtime(join(site, 'layer', 'b.py'), 'B = "b3"\n');
    expect((await prefix.prepare(await snaps.take())).removed).toBe(1);
    expect(await pythonAsync(dir, ['-c', 'import layer.b; print(layer.b.B)'], env)).toBe('b3');
  });

  it('never writes through a link planted in the prefix', async () => {
    const { lib, pkg } = library();
    const dir = project();
    const prefix = tempDir('devsup-prefix-');
    await pythonAsync(dir, ['main.py'], { ...pythonEnv(prefix), PYTHONPATH: lib });
    const outside = tempDir('devsup-outside-');
    symlinkSync(outside, join(prefix, pkg, 'sub'));
    const seeder = new PrefixSeeder(prefix, [dir]);
    await seeder.look();
    await seeder.stop();
    expect(readdirSync(outside)).toEqual([]);
    expect(pycOf(prefix, pkg, 'b')).toHaveLength(1);
  });

  it('stops within its budget', async () => {
    const { lib, pkg } = library();
    const dir = project();
    const prefix = tempDir('devsup-prefix-');
    await pythonAsync(dir, ['main.py'], { ...pythonEnv(prefix), PYTHONPATH: lib });
    for (const budget of [1, 4000]) {
      const seeder = new PrefixSeeder(prefix, [dir], budget);
      await seeder.look();
      const { files, bytes } = await seeder.stop();
      expect(bytes).toBeLessThanOrEqual(budget);
      if (budget === 1) expect([files, findFiles(join(prefix, pkg), /\.pyc$/)]).toEqual([0, ['__init__.cpython-311.pyc', 'a.cpython-311.pyc'].map((n) => n.replace('cpython-311', TAG))]);
      else expect(files).toBeGreaterThan(0);
    }
  });
});

describe('isProject', () => {
  it('is the project’s directories and what is below them, except installed packages', () => {
    expect(isProject('/p', ['/p'])).toBe(true);
    expect(isProject('/p/a/b', ['/p'])).toBe(true);
    expect(isProject('/p/.venv/lib/python3.11/site-packages/x', ['/p'])).toBe(false);
    expect(isProject('/p/dist-packages', ['/p'])).toBe(false);
    expect(isProject('/pp', ['/p'])).toBe(false);
    expect(isProject('/', ['/p'])).toBe(false);
    expect(isProject('/real/p/a', ['/p', '/real/p'])).toBe(true);
  });
});
