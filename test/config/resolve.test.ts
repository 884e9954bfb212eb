import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/check.js';
import type { ResolvedWorker } from '../../src/config/types.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { worker } from './problems.js';

describe('resolution: worker > defaults > built-in defaults', () => {
  const dir = tempDir();
  writeTree(dir, { 'svc/src/a.js': '', 'svc/lib/b.js': '', 'other/src/c.js': '' });
  const only = (raw: unknown, name: string): ResolvedWorker => validateConfig(raw, dir).workers.find((w) => w.name === name)!;

  it('fills every field from the built-in defaults', () => {
    expect(only({ workers: [worker('api')] }, 'api')).toEqual({
      name: 'api',
      cmd: ['node', 'app.js'],
      cwd: dir,
      env: {},
      envFile: [],
      watch: [dir],
      ignore: [],
      ext: [],
      clear: 'auto',
      clearCmd: null,
      settle: 100,
      grace: 3000,
      signal: 'SIGTERM',
      kind: 'service',
      restart: 'on-change',
      dependsOn: [],
      ready: null,
      poll: false,
      repeat: 1,
      junit: null,
    } satisfies ResolvedWorker);
  });

  it('takes defaults over built-ins and the worker over defaults', () => {
    const defaults = {
      cwd: 'svc',
      env: { NODE_ENV: 'development', LOG: 'info' },
      watch: ['src'],
      ignore: ['**/*.log'],
      ext: ['.js', 'ts'],
      clear: ['node'],
      clearCmd: 'rm -rf .cache',
      settle: 250,
      grace: 500,
      signal: 'SIGINT',
      kind: 'task',
      restart: 'never',
      poll: true,
      repeat: 3,
    };
    const config = {
      defaults,
      workers: [
        worker('inherits'),
        worker('own', { cwd: 'other', env: { LOG: 'debug', PORT: '1' }, grace: 0, clear: false, kind: 'service', ready: { port: 80 } }),
      ],
    };
    const inherits = only(config, 'inherits');
    expect(inherits).toMatchObject({
      cwd: join(dir, 'svc'),
      env: { NODE_ENV: 'development', LOG: 'info' },
      watch: [join(dir, 'svc/src')],
      ignore: ['**/*.log'],
      ext: ['js', 'ts'],
      clear: ['node'],
      clearCmd: 'rm -rf .cache',
      settle: 250,
      grace: 500,
      signal: 'SIGINT',
      kind: 'task',
      restart: 'never',
      poll: true,
      repeat: 3,
    });
    const own = only(config, 'own');
    expect(own).toMatchObject({
      cwd: join(dir, 'other'),
      env: { NODE_ENV: 'development', LOG: 'debug', PORT: '1' },
      watch: [join(dir, 'other/src')],
      grace: 0,
      clear: false,
      kind: 'service',
      ready: { port: 80 },
      settle: 250,
    });
  });

  it('resolves absolute cwd and watch paths as given', () => {
    const w = only({ workers: [worker('abs', { cwd: join(dir, 'svc'), watch: [join(dir, 'other'), 'lib'] })] }, 'abs');
    expect(w.cwd).toBe(join(dir, 'svc'));
    expect(w.watch).toEqual([join(dir, 'other'), join(dir, 'svc/lib')]);
  });

  it('keeps a shell command string as a string', () => {
    expect(only({ workers: [worker('sh', { cmd: 'node app.js | tee out.log' })] }, 'sh').cmd).toBe('node app.js | tee out.log');
  });
});

describe('start order', () => {
  const dir = tempDir();
  const order = (workers: Record<string, unknown>[]) => validateConfig({ workers }, dir).workers.map((w) => w.name);

  it('keeps the listed order when nothing depends on anything', () => {
    expect(order([worker('c'), worker('a'), worker('b')])).toEqual(['c', 'a', 'b']);
  });

  it('starts dependencies first and otherwise keeps the listed order', () => {
    expect(
      order([
        worker('web', { dependsOn: ['api'] }),
        worker('docs'),
        worker('api', { dependsOn: ['db', 'cache'] }),
        worker('cache'),
        worker('db'),
        worker('tests', { dependsOn: ['db'] }),
      ]),
    ).toEqual(['docs', 'cache', 'db', 'api', 'web', 'tests']);
  });

  it('handles a chain listed backwards and a diamond', () => {
    expect(order([worker('c', { dependsOn: ['b'] }), worker('b', { dependsOn: ['a'] }), worker('a')])).toEqual(['a', 'b', 'c']);
    expect(
      order([worker('top', { dependsOn: ['l', 'r'] }), worker('l', { dependsOn: ['base'] }), worker('r', { dependsOn: ['base'] }), worker('base')]),
    ).toEqual(['base', 'l', 'r', 'top']);
  });
});
