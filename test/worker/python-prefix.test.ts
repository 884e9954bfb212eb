import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/core/bus.js';
import type { DevsupEvent } from '../../src/core/events.js';
import type { Snapshot } from '../../src/watch/snapshot.js';
import { pythonPrefixFor } from '../../src/worker/python-prefix.js';
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
});
