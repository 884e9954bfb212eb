import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import type { DevsupEvent } from '../../src/core/events.js';
import type { Snapshot } from '../../src/watch/snapshot.js';
import { pythonPrefixFor } from '../../src/worker/python-prefix.js';
import { baseEnv } from '../caches/python-rig.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

const snap = (files: Record<string, string>, seq: number): Snapshot => ({ seq, files: new Map(Object.entries(files)), codeId: String(seq) });
const state = (c: string, ctime: number) => `${c.padEnd(27, '_')}t10:${ctime}:1`;

function worker(name: string) {
  const cwd = tempDir('devsup-proj-');
  const stateDir = join(cwd, '.devsup');
  mkdirSync(stateDir);
  return { name, cwd, stateDir, clear: { roots: [cwd] } };
}

describe('pythonPrefixFor', () => {
  it('gives every start of a worker the same directory, readied for the start’s snapshot', async () => {
    const bus = new Bus();
    const w = worker('api');
    const a = join(w.cwd, 'a.py');
    const first = await pythonPrefixFor(w, snap({ [a]: state('a', 1) }, 1), bus);
    const dir = join(w.stateDir, 'pycache', 'w-api');
    expect(first).toEqual({ PYTHONPYCACHEPREFIX: dir });
    writeTree(join(dir, w.cwd), { 'a.cpython-311.pyc': 'x' });
    expect(await pythonPrefixFor(w, snap({ [a]: state('a', 1) }, 2), bus)).toEqual(first);
    expect(existsSync(join(dir, w.cwd, 'a.cpython-311.pyc'))).toBe(true);
    expect(await pythonPrefixFor(w, snap({ [a]: state('b', 2) }, 3), bus)).toEqual(first);
    expect(existsSync(join(dir, w.cwd, 'a.cpython-311.pyc'))).toBe(false);
    // Compiled by the generation started on the edit: from then on it is kept.
    writeTree(join(dir, w.cwd), { 'a.cpython-311.pyc': 'x' });
    for (const seq of [4, 5]) {
      await pythonPrefixFor(w, snap({ [a]: state('b', 2) }, seq), bus);
      expect(existsSync(join(dir, w.cwd, 'a.cpython-311.pyc')), `start ${seq}`).toBe(true);
    }
  });

  it('falls back to an empty directory per start, with a warning, when its place is a symlink', async () => {
    const bus = new Bus();
    const events: DevsupEvent[] = [];
    bus.on((e) => events.push(e));
    const w = worker('web');
    const outside = tempDir('devsup-outside-');
    symlinkSync(outside, join(w.stateDir, 'pycache'));
    const env1 = await pythonPrefixFor(w, snap({}, 1), bus);
    const env2 = await pythonPrefixFor(w, snap({}, 2), bus);
    expect(env1.PYTHONPYCACHEPREFIX).not.toBe(env2.PYTHONPYCACHEPREFIX);
    expect(env1.PYTHONPYCACHEPREFIX!.startsWith(outside)).toBe(false);
    expect(existsSync(env1.PYTHONPYCACHEPREFIX!), 'the previous start’s directory is removed').toBe(false);
    expect(readdirSync(env2.PYTHONPYCACHEPREFIX!)).toEqual([]);
    expect(events.filter((e) => e.type === 'warning').map((e) => (e as { message: string }).message)[0]).toMatch(/bytecode directory: .*(not a directory|is a symlink)/);
    expect(readdirSync(outside)).toEqual([]);
  });

  it('seeds the first start in this process from the interpreter’s __pycache__, not the later ones', async () => {
    const bus = new Bus();
    const w = worker('seeded');
    const py = async (code: string, env: Record<string, string>) =>
      promisify(execFile)('python3', ['-S', '-c', code], { cwd: w.cwd, env: { ...baseEnv(), ...env }, timeout: 20_000 });
    const std = dirname(execFileSync('python3', ['-c', 'import json; print(json.__file__)'], { encoding: 'utf8' }).trim());
    const cached = (pkg: string, mod: string): string | undefined =>
      readdirSync(join(dirname(std), pkg, '__pycache__')).find((n) => new RegExp(`^${mod}\\.[a-z]+-\\d+\\.pyc$`).test(n));
    const tool = cached('json', 'tool');
    const htmlParser = cached('html', 'parser');
    if (!tool || !htmlParser) return; // an interpreter without precompiled bytecode: nothing to seed from
    const env = await pythonPrefixFor(w, snap({}, 1), bus);
    await py('import json, time; time.sleep(1)', env);
    const dir = env.PYTHONPYCACHEPREFIX!;
    // json.tool was never imported: it was copied from json/__pycache__.
    expect(existsSync(join(dir, std, tool))).toBe(true);
    await pythonPrefixFor(w, snap({}, 2), bus);
    await py('import html, time; time.sleep(1)', env);
    expect(existsSync(join(dir, dirname(std), 'html', htmlParser)), 'the second start is not seeded').toBe(false);
  });
});
