import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../src/config/check.js';
import { tempDir } from '../helpers/tmp.js';
import { problemsOf, worker } from './problems.js';

describe('schema problems are one line each, `path: reason`', () => {
  const dir = tempDir();
  const one = (w: Record<string, unknown>) => problemsOf({ workers: [worker('ok'), w] }, dir);

  it('names an unknown field by its full path and suggests the near miss', () => {
    expect(one(worker('api', { colour: 'red' }))).toEqual(['workers[1].colour: unknown field']);
    expect(one(worker('api', { depends: ['ok'] }))).toEqual([
      'workers[1].depends: unknown field (did you mean "dependsOn"?)',
    ]);
    expect(problemsOf({ workers: [worker('a')], extra: 1 }, dir)).toEqual(['extra: unknown field']);
    expect(problemsOf({ workers: [worker('a', { ready: { port: 1, hots: 'x' } })] }, dir)).toEqual([
      'workers[0].ready.hots: unknown field (did you mean "host"?)',
    ]);
  });

  it('says which fields belong on a worker rather than in defaults', () => {
    expect(problemsOf({ defaults: { dependsOn: ['x'], setle: 5 }, workers: [worker('a')] }, dir)).toEqual([
      'defaults.dependsOn: set on each worker, not in defaults',
      'defaults.setle: unknown field (did you mean "settle"?)',
    ]);
  });

  it('takes durations as milliseconds or with a unit, and rejects anything else with the exact message', () => {
    const ok = validateConfig({ defaults: { settle: '1m', grace: 500 }, workers: [worker('a'), worker('b', { grace: '2s', settle: '250ms' })] }, dir);
    expect(ok.workers.map((w) => [w.settle, w.grace])).toEqual([[60_000, 500], [250, 2000]]);
    expect(one(worker('api', { grace: '2 s', settle: 'soon' }))).toEqual([
      'workers[1].settle: expected a duration (500, 500ms, 2s, 1m), got "soon"',
      'workers[1].grace: expected a duration (500, 500ms, 2s, 1m), got "2 s"',
    ]);
  });

  it('rejects fractional, negative and non-number durations', () => {
    expect(one(worker('api', { settle: 2.5, grace: -1 }))).toEqual([
      'workers[1].settle: expected a duration (500, 500ms, 2s, 1m), got 2.5',
      'workers[1].grace: expected a duration (500, 500ms, 2s, 1m), got -1',
    ]);
    expect(one(worker('api', { grace: true, settle: '-2s' }))).toEqual([
      'workers[1].settle: expected a duration (500, 500ms, 2s, 1m), got "-2s"',
      'workers[1].grace: expected a duration (500, 500ms, 2s, 1m), got true',
    ]);
  });

  it('lists the allowed signals', () => {
    expect(one(worker('api', { signal: 'TERM' }))).toEqual([
      'workers[1].signal: expected one of "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGKILL", got "TERM"',
    ]);
  });

  it('compiles the ready log regex', () => {
    expect(one(worker('api', { ready: { log: 'listening (on' } }))).toEqual([
      'workers[1].ready.log: invalid regular expression: /listening (on/: Unterminated group',
    ]);
  });

  it('explains ready objects that match neither form', () => {
    expect(one(worker('api', { ready: { log: 'x', port: 80 } }))).toEqual([
      'workers[1].ready: use either "log" or "port", not both',
    ]);
    expect(one(worker('api', { ready: {} }))).toEqual(['workers[1].ready: expected a "log" regex or a "port" number']);
    expect(one(worker('api', { ready: { port: 70000 } }))).toEqual([
      'workers[1].ready.port: expected a whole number from 1 to 65535, got 70000',
    ]);
  });

  it('points into the command form the user chose', () => {
    expect(one(worker('api', { cmd: ['node', 3] }))).toEqual(['workers[1].cmd[1]: expected a string, got 3']);
    expect(one(worker('api', { cmd: [] }))).toEqual(['workers[1].cmd: must not be empty']);
    expect(one(worker('api', { cmd: 42 }))).toEqual([
      'workers[1].cmd: expected a command string or an array of argv strings, got 42',
    ]);
    expect(one({ name: 'api' })).toEqual(['workers[1].cmd: required']);
  });

  it('checks names, enums, clear entries and env values', () => {
    expect(
      one(worker('my api', { kind: 'tasks', clear: [3], env: { PORT: 4310 }, repeat: 0 })),
    ).toEqual([
      'workers[1].name: must start with a letter or digit and use only letters, digits, "_", "." and "-", got "my api"',
      'workers[1].env.PORT: expected a string (quote numbers), got 4310',
      'workers[1].clear[0]: expected a preset name (python, pytest, node, vite, tsbuildinfo) or a glob, got 3',
      'workers[1].kind: expected one of "service", "task", got "tasks" (did you mean "task"?)',
      'workers[1].repeat: expected a whole number >= 1, got 0',
    ]);
    expect(one(worker('api', { clear: true }))).toEqual([
      'workers[1].clear: expected an array of preset names or globs, or false, got true',
    ]);
  });

  it('checks the top level shape', () => {
    expect(problemsOf([], dir)).toEqual(['(top level): expected an object, got an array']);
    expect(problemsOf({}, dir)).toEqual(['workers: required']);
    expect(problemsOf({ workers: [] }, dir)).toEqual(['workers: must list at least one worker']);
    expect(problemsOf({ workers: [5] }, dir)).toEqual(['workers[0]: expected an object, got 5']);
  });
});
