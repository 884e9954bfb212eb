import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BytecodePrefix, openBytecodePrefix, pycacheRoot, pythonEnv } from '../../src/caches/pycache-prefix.js';
import type { Snapshot } from '../../src/watch/snapshot.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

/** A snapshot with the given file states (any string; equal strings are the same state). */
function snap(files: Record<string, string>, seq = 1): Snapshot {
  return { seq, files: new Map(Object.entries(files)), codeId: String(seq) };
}

/** A fake state string: 27-character hash, trust flag, stat identity. */
const state = (content: string, ctime: number, flag = 't') => `${content.padEnd(27, '_')}${flag}10:${ctime}:42`;

describe('openBytecodePrefix', () => {
  it('claims <stateDir>/pycache/<key>, and a second claim while the first is held gets <key>.2', async () => {
    const stateDir = tempDir('devsup-state-');
    const a = await openBytecodePrefix(stateDir, 'w-app', ['/nowhere']);
    const b = await openBytecodePrefix(stateDir, 'w-app', ['/nowhere']);
    expect(a.dir).toBe(join(stateDir, 'pycache', 'w-app'));
    expect(b.dir).toBe(join(stateDir, 'pycache', 'w-app.2'));
    a.close();
    const c = await openBytecodePrefix(stateDir, 'w-app', ['/nowhere']);
    expect(c.dir).toBe(a.dir);
    b.close();
    c.close();
    expect(readdirSync(pycacheRoot(stateDir)).filter((n) => n.endsWith('.lock'))).toEqual([]);
  });

  it('takes over the lock of a process that is gone, not that of a live one', async () => {
    const stateDir = tempDir('devsup-state-');
    const root = pycacheRoot(stateDir);
    mkdirSync(root, { recursive: true });
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    trackPid(sleeper.pid);
    const exited = new Promise((r) => sleeper.once('exit', r));
    try {
      writeFileSync(join(root, 'flake.lock'), `${sleeper.pid}\n`);
      writeFileSync(join(root, 'other.lock'), '999999999\n');
      const live = await openBytecodePrefix(stateDir, 'flake', []);
      expect(live.dir).toBe(join(root, 'flake.2'));
      const dead = await openBytecodePrefix(stateDir, 'other', []);
      expect(dead.dir).toBe(join(root, 'other'));
      live.close();
      dead.close();
    } finally {
      sleeper.kill('SIGKILL');
      await exited;
    }
  });

  it('refuses a symlink planted where the prefix or the pycache directory goes', async () => {
    const stateDir = tempDir('devsup-state-');
    const elsewhere = tempDir('devsup-elsewhere-');
    mkdirSync(pycacheRoot(stateDir), { recursive: true });
    symlinkSync(elsewhere, join(pycacheRoot(stateDir), 'w-app'));
    await expect(openBytecodePrefix(stateDir, 'w-app', [])).rejects.toThrow(/not a directory/);
    // The lock it took was given back.
    expect(existsSync(join(pycacheRoot(stateDir), 'w-app.lock'))).toBe(false);

    const state2 = tempDir('devsup-state-');
    symlinkSync(elsewhere, join(state2, 'pycache'));
    await expect(openBytecodePrefix(state2, 'w-app', [])).rejects.toThrow(/is a symlink/);
    expect(readdirSync(elsewhere)).toEqual([]);
  });

  it('names with odd characters stay one directory below pycache', async () => {
    const stateDir = tempDir('devsup-state-');
    const p = await openBytecodePrefix(stateDir, '../../etc x', []);
    expect(p.dir.startsWith(pycacheRoot(stateDir) + '/')).toBe(true);
    expect(p.dir.slice(pycacheRoot(stateDir).length + 1)).not.toContain('/');
    p.close();
  });
});

describe('BytecodePrefix.prepare', () => {
  function project() {
    const proj = tempDir('devsup-proj-');
    const dir = tempDir('devsup-prefix-');
    const mirror = join(dir, proj);
    const pyc = (name: string) => {
      writeTree(mirror, { [`${name}.cpython-311.pyc`]: 'x' });
      return join(mirror, `${name}.cpython-311.pyc`);
    };
    return { proj, dir, mirror, pyc, prefix: new BytecodePrefix(dir, [proj]) };
  }

  it('drops bytecode of changed, removed and unwatched files; keeps unchanged ones and other files', async () => {
    const { proj, mirror, pyc, prefix } = project();
    const f = (n: string) => join(proj, n);
    await prefix.prepare(snap({ [f('same.py')]: state('a', 1), [f('edited.py')]: state('a', 1), [f('gone.py')]: state('a', 1), [f('touched.py')]: state('a', 1) }));
    const paths = ['same', 'edited', 'gone', 'touched', 'unwatched', 'added'].map(pyc);
    writeTree(mirror, { 'notes.txt': 'not bytecode', 'same.cpython-311.opt-1.pyc': 'x' });
    const { removed } = await prefix.prepare(
      snap({ [f('same.py')]: state('a', 1, 'u'), [f('edited.py')]: state('b', 2), [f('touched.py')]: state('a', 2), [f('added.py')]: state('a', 2) }, 2),
    );
    expect(removed).toBe(5);
    expect(paths.map(existsSync)).toEqual([true, false, false, false, false, false]);
    expect(existsSync(join(mirror, 'same.cpython-311.opt-1.pyc'))).toBe(true);
    expect(existsSync(join(mirror, 'notes.txt'))).toBe(true);
  });

  it('knows pytest’s rewritten test modules, optimized bytecode and module names with dots', async () => {
    const { proj, mirror, prefix } = project();
    const f = (n: string) => join(proj, n);
    const names = ['test_a.cpython-311-pytest-9.0.3.pyc', 'a.b.cpython-311.pyc', 'a.b.cpython-311.opt-2.pyc', 'a.cpython-311.pyc', 'test_b.cpython-311-pytest-9.0.3.pyc'];
    const first = snap({ [f('test_a.py')]: state('t', 1), [f('a.b.py')]: state('x', 1), [f('a.py')]: state('y', 1), [f('test_b.py')]: state('t', 1) });
    await prefix.prepare(first);
    writeTree(mirror, Object.fromEntries(names.map((n) => [n, 'x'])));
    // a.py is unchanged, but the bytecode of a.b.py must not pass for a.py's.
    const { removed } = await prefix.prepare(snap({ [f('test_a.py')]: state('t', 1), [f('a.b.py')]: state('z', 2), [f('a.py')]: state('y', 1), [f('test_b.py')]: state('u', 2) }, 2));
    expect(removed).toBe(3);
    expect(names.map((n) => existsSync(join(mirror, n)))).toEqual([true, false, false, true, false]);
  });

  it('drops every project pyc on its first start, but not installed packages', async () => {
    const { proj, mirror, pyc, prefix } = project();
    const a = pyc('a');
    writeTree(mirror, { 'venv/lib/python3.11/site-packages/pkg.cpython-311.pyc': 'x' });
    expect((await prefix.prepare(snap({ [join(proj, 'a.py')]: state('a', 1) }))).removed).toBe(1);
    expect(existsSync(a)).toBe(false);
    expect(existsSync(join(mirror, 'venv/lib/python3.11/site-packages/pkg.cpython-311.pyc'))).toBe(true);
  });

  it('checks later starts against runs still going: a parallel run may compile the old content late', async () => {
    const { proj, pyc, prefix } = project();
    const a = join(proj, 'a.py');
    const run1 = await prefix.prepare(snap({ [a]: state('a', 1) }, 1));
    await prefix.prepare(snap({ [a]: state('b', 2) }, 2));
    // Run 1 is still going and writes bytecode of the content it read.
    pyc('a');
    expect((await prefix.prepare(snap({ [a]: state('b', 2) }, 3))).removed).toBe(1);
    pyc('a');
    run1.release();
    expect((await prefix.prepare(snap({ [a]: state('b', 2) }, 4))).removed).toBe(0);
  });

  it('checks the first start after its directories change as a first start', async () => {
    const { proj, dir, pyc, prefix } = project();
    const other = tempDir('devsup-proj-');
    const a = join(proj, 'a.py');
    await prefix.prepare(snap({ [a]: state('a', 1) }));
    pyc('a');
    writeTree(join(dir, other), { 'b.cpython-311.pyc': 'x' });
    prefix.setAreas([proj]);
    expect((await prefix.prepare(snap({ [a]: state('a', 1) }, 2))).removed).toBe(0);
    prefix.setAreas([proj, other]);
    expect((await prefix.prepare(snap({ [a]: state('a', 1), [join(other, 'b.py')]: state('b', 1) }, 3))).removed).toBe(2);
  });

  it('never walks through a symlink in the prefix', async () => {
    const { proj, mirror, prefix } = project();
    const outside = tempDir('devsup-outside-');
    writeTree(outside, { 'x.cpython-311.pyc': 'keep me' });
    mkdirSync(mirror, { recursive: true });
    symlinkSync(outside, join(mirror, 'sub'));
    await prefix.prepare(snap({}));
    await prefix.prepare(snap({ [join(proj, 'sub', 'x.py')]: state('a', 1) }, 2));
    expect(existsSync(join(outside, 'x.cpython-311.pyc'))).toBe(true);
  });

  it('pythonEnv sets PYTHONPYCACHEPREFIX', () => {
    expect(pythonEnv('/p')).toEqual({ PYTHONPYCACHEPREFIX: '/p' });
  });
});
