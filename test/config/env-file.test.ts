import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readEnvFiles } from '../../src/config/env-file.js';
import { resolveWorker } from '../../src/config/resolve.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { problemsOf, worker } from './problems.js';

describe('env files', () => {
  it('parse like node --env-file, later files winning, a missing file contributing nothing', () => {
    const dir = tempDir();
    writeTree(dir, {
      '.env': '# a comment\nA=1\nexport B="two words"\nC=\'single\' # trailing comment\nD="multi\nline"\nEMPTY=\n',
      '.env.local': 'A=local\n',
    });
    const env = readEnvFiles([join(dir, '.env'), join(dir, 'gone.env'), join(dir, '.env.local')]);
    expect(env).toEqual({ A: 'local', B: 'two words', C: 'single', D: 'multi\nline', EMPTY: '' });
  });

  it('resolve relative to the cwd; a worker list replaces the defaults one', () => {
    const dir = tempDir();
    const d = { envFile: '.env' };
    expect(resolveWorker({ name: 'a', cmd: 'x', cwd: 'api' }, d, dir).envFile).toEqual([join(dir, 'api/.env')]);
    expect(resolveWorker({ name: 'a', cmd: 'x', envFile: ['x.env', 'y.env'] }, d, dir).envFile).toEqual([join(dir, 'x.env'), join(dir, 'y.env')]);
    expect(resolveWorker({ name: 'a', cmd: 'x' }, {}, dir).envFile).toEqual([]);
  });

  it('must exist as files, each problem at its place', () => {
    const dir = tempDir();
    writeTree(dir, { '.env': 'A=1\n', 'sub/x': '' });
    expect(problemsOf({ defaults: { envFile: 'missing.env' }, workers: [worker('a'), worker('b', { envFile: ['.env', 'sub', 'nope.env'] })] }, dir)).toEqual([
      `defaults.envFile: file does not exist: ${join(dir, 'missing.env')} (for workers[0])`,
      `workers[1].envFile[1]: a directory, not an env file: ${join(dir, 'sub')}`,
      `workers[1].envFile[2]: file does not exist: ${join(dir, 'nope.env')}`,
    ]);
    expect(problemsOf({ workers: [worker('a', { envFile: 42 })] }, dir)).toEqual(['workers[0].envFile: expected a path or an array of paths, got 42']);
  });
});
