import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freshPycachePrefix, pythonEnv } from '../../src/caches/pycache-prefix.js';
import { tempDir } from '../helpers/tmp.js';

const genDirs = (stateDir: string) =>
  readdirSync(join(stateDir, 'pycache'))
    .filter((n) => n.startsWith('gen-'))
    .sort();

describe('freshPycachePrefix', () => {
  it('creates an empty, absolute gen-<N>-<random> directory under <stateDir>/pycache', async () => {
    const state = tempDir('devsup-state-');
    const prefix = await freshPycachePrefix(state, 7);
    expect(isAbsolute(prefix)).toBe(true);
    expect(prefix.startsWith(join(state, 'pycache', 'gen-7-'))).toBe(true);
    expect(prefix.length).toBeGreaterThan(join(state, 'pycache', 'gen-7-').length);
    expect(readdirSync(prefix)).toEqual([]);
  });

  it('never hands out the same directory twice, even for the same generation', async () => {
    const state = tempDir('devsup-state-');
    const a = await freshPycachePrefix(state, 1);
    const b = await freshPycachePrefix(state, 1);
    expect(a).not.toBe(b);
    expect(existsSync(a) && existsSync(b)).toBe(true);
  });

  it('keeps only the two newest generations and leaves unrelated entries alone', async () => {
    const state = tempDir('devsup-state-');
    mkdirSync(join(state, 'pycache'), { recursive: true });
    writeFileSync(join(state, 'pycache', 'README'), 'not ours');
    const made: string[] = [];
    for (let gen = 1; gen <= 5; gen++) {
      const p = await freshPycachePrefix(state, gen);
      mkdirSync(join(p, 'some', 'bytecode'), { recursive: true });
      made.push(p);
    }
    expect(made.slice(0, 3).map(existsSync)).toEqual([false, false, false]);
    expect(made.slice(3).map(existsSync)).toEqual([true, true]);
    expect(existsSync(join(state, 'pycache', 'README'))).toBe(true);
  });

  it('prunes an earlier run’s directories before this run’s previous one, whatever their numbers', async () => {
    const state = tempDir('devsup-state-');
    mkdirSync(join(state, 'pycache', 'gen-9-oldrun'), { recursive: true });
    const hourAgo = Date.now() / 1000 - 3600;
    utimesSync(join(state, 'pycache', 'gen-9-oldrun'), hourAgo, hourAgo);
    const g1 = await freshPycachePrefix(state, 1);
    expect(genDirs(state)).toHaveLength(2);
    const g2 = await freshPycachePrefix(state, 2);
    expect(existsSync(join(state, 'pycache', 'gen-9-oldrun'))).toBe(false);
    expect(existsSync(g1) && existsSync(g2)).toBe(true);
  });

  it('pythonEnv sets PYTHONPYCACHEPREFIX to the prefix', () => {
    expect(pythonEnv('/state/pycache/gen-1-abc')).toEqual({ PYTHONPYCACHEPREFIX: '/state/pycache/gen-1-abc' });
  });
});
