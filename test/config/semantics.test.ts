import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { problemsOf, worker } from './problems.js';

describe('checks across workers and on disk', () => {
  const dir = tempDir();
  writeTree(dir, { 'api/src/index.js': '', 'api/package.json': '{}', 'web/index.html': '' });

  it('reports a duplicate name against its first use', () => {
    expect(problemsOf({ workers: [worker('api'), worker('web'), worker('api')] }, dir)).toEqual([
      'workers[2].name: duplicate worker name "api" (also workers[0])',
    ]);
  });

  it('reports dependsOn naming an unknown worker, with a near miss', () => {
    const workers = [worker('api'), worker('db'), worker('web', { dependsOn: ['api', 'dbb', 'cache'] })];
    expect(problemsOf({ workers }, dir)).toEqual([
      'workers[2].dependsOn[1]: unknown worker "dbb" (did you mean "db"?)',
      'workers[2].dependsOn[2]: unknown worker "cache"',
    ]);
  });

  it('names a dependsOn cycle from the worker listed first', () => {
    const workers = [worker('web', { dependsOn: ['api'] }), worker('api', { dependsOn: ['db'] }), worker('db', { dependsOn: ['api'] })];
    expect(problemsOf({ workers }, dir)).toEqual(['dependsOn cycle: api -> db -> api']);
  });

  it('reports each separate cycle once, including a worker depending on itself', () => {
    const workers = [
      worker('a', { dependsOn: ['b'] }),
      worker('b', { dependsOn: ['c'] }),
      worker('c', { dependsOn: ['a'] }),
      worker('solo', { dependsOn: ['solo'] }),
    ];
    expect(problemsOf({ workers }, dir)).toEqual(['dependsOn cycle: a -> b -> c -> a', 'dependsOn cycle: solo -> solo']);
  });

  it('reports watch paths that do not exist, relative to the worker cwd', () => {
    const workers = [worker('api', { cwd: 'api', watch: ['src', 'lib', 'package.json'] })];
    expect(problemsOf({ workers }, dir)).toEqual([`workers[0].watch[1]: path does not exist: ${join(dir, 'api/lib')}`]);
  });

  it('blames defaults.watch when the missing path came from there', () => {
    const config = { defaults: { watch: ['src'] }, workers: [worker('api', { cwd: 'api' }), worker('web', { cwd: 'web' })] };
    expect(problemsOf(config, dir)).toEqual([
      `defaults.watch[0]: path does not exist: ${join(dir, 'web/src')} (for workers[1])`,
    ]);
  });

  it('reports a missing cwd once instead of every watch path under it', () => {
    const workers = [worker('api', { cwd: 'nowhere', watch: ['src', 'lib'] }), worker('web', { cwd: 'web/index.html' })];
    expect(problemsOf({ workers }, dir)).toEqual([
      `workers[0].cwd: directory does not exist: ${join(dir, 'nowhere')}`,
      `workers[1].cwd: not a directory: ${join(dir, 'web/index.html')}`,
    ]);
  });

  it('reports schema and cross-worker problems together, nothing hidden behind the first', () => {
    const config = {
      defaults: { grace: '2 s' },
      workers: [
        worker('api', { signal: 'KILL', dependsOn: ['db'] }),
        worker('db', { dependsOn: ['api'], watch: ['missing'] }),
        worker('api', { colour: 1 }),
        worker('web', { dependsOn: ['nope'] }),
      ],
    };
    const problems = problemsOf(config, dir);
    expect(problems).toEqual([
      'defaults.grace: expected a duration (500, 500ms, 2s, 1m), got "2 s"',
      expect.stringMatching(/^workers\[0\]\.signal: expected one of .*, got "KILL"$/),
      'workers[2].colour: unknown field',
      'workers[2].name: duplicate worker name "api" (also workers[0])',
      'workers[3].dependsOn[0]: unknown worker "nope"',
      'dependsOn cycle: api -> db -> api',
      `workers[1].watch[0]: path does not exist: ${join(dir, 'missing')}`,
    ]);
  });
});
