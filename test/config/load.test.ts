import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { parseJsonText } from '../../src/config/json-text.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

async function loadError(file: string): Promise<ConfigError> {
  const err = await loadConfig(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('loadConfig', () => {
  it('reads, checks and resolves a file, relative to its directory', async () => {
    const dir = tempDir();
    writeTree(dir, { 'app/devsup.config.json': '{ "workers": [{ "name": "api", "cmd": "node ." }] }' });
    const config = await loadConfig(join(dir, 'app/devsup.config.json'));
    expect(config.file).toBe(join(dir, 'app/devsup.config.json'));
    expect(config.dir).toBe(join(dir, 'app'));
    expect(config.workers.map((w) => [w.name, w.cwd, w.watch])).toEqual([['api', join(dir, 'app'), [join(dir, 'app')]]]);
  });

  it('lists every problem under one header line, each with its line and column, exit code 2', async () => {
    const dir = tempDir();
    const file = join(dir, 'devsup.config.json');
    writeTree(dir, { 'devsup.config.json': JSON.stringify({ workers: [{ name: 'a', cmd: 'x', grace: 'soon', bogus: 1 }, { name: 'b' }] }, null, 2) });
    const err = await loadError(file);
    expect(err.exitCode).toBe(2);
    const problems = [
      'workers[0].grace (line 6, column 7): expected a duration (500, 500ms, 2s, 1m), got "soon"',
      'workers[0].bogus (line 7, column 7): unknown field',
      'workers[1].cmd (line 9, column 5): required',
    ];
    expect(err.problems).toEqual(problems);
    expect(err.message).toBe([`invalid config ${file}:`, ...problems.map((p) => `  ${p}`)].join('\n'));
  });

  it('reads comments and trailing commas (JSONC)', async () => {
    const dir = tempDir();
    const file = join(dir, 'devsup.config.json');
    writeTree(dir, { 'devsup.config.json': '{\n  // one service\n  "workers": [\n    { "name": "api", "cmd": "node .", /* no watch */ },\n  ],\n}\n' });
    expect((await loadConfig(file)).workers.map((w) => w.name)).toEqual(['api']);
  });

  it('gives the line and column of every syntax error at once', async () => {
    const dir = tempDir();
    const file = join(dir, 'devsup.config.json');
    writeTree(dir, { 'devsup.config.json': '{\n  "workers": [\n    { "name": "api" "cmd": "x" },\n    { "name": \'b\' },\n  ]\n}\n' });
    const err = await loadError(file);
    expect(err.message).toBe(
      [`invalid config ${file}:`, '  line 3, column 21: expected ",", got "\\"cmd\\""', `  line 4, column 15: unexpected character, got "'" (strings use double quotes)`].join('\n'),
    );
  });

  it('reports a missing file as a config problem', async () => {
    const file = join(tempDir(), 'nope.json');
    expect((await loadError(file)).problems).toEqual(['file not found']);
  });
});

describe('JSONC syntax positions', () => {
  const cases: [string, [number, number, string][]][] = [
    ['{\n  "a": 1\n  "b": 2\n}', [[3, 3, 'expected ",", got "\\"b\\""']]],
    ["{ 'a': 1 }", [[1, 3, `unexpected character, got "'" (strings use double quotes)`]]],
    ['{"a": "one\ntwo"}', [[1, 7, 'unterminated string'], [2, 1, 'unexpected character, got "two"']]],
    ['{"a": tru}', [[1, 7, 'unexpected character, got "tru"']]],
    ['{"a": 1} x', [[1, 10, 'unexpected character, got "x"']]],
    ['{"a": [1, 2', [[1, 12, 'unexpected end of file, expected "]"']]],
    ['', [[1, 1, 'unexpected end of file, expected a value']]],
    ['\uFEFF{\n "a": "\\q"}', [[2, 7, 'invalid escape in string']]],
    ['{ /* open', [[1, 3, 'unterminated comment, got "/* open"']]],
    // Every problem at once, one per line.
    ['{\n "a": 1\n "b": [1 2],\n "c": \n}', [[3, 2, 'expected ",", got "\\"b\\""'], [5, 1, 'expected a value, got "}"']]],
  ];
  it.each(cases)('%j', (text, problems) => {
    expect(parseJsonText(text)).toEqual({ ok: false, problems: problems.map(([line, column, reason]) => ({ line, column, reason })) });
  });

  it('takes comments and trailing commas, with or without a byte order mark', () => {
    const text = '\uFEFF{\n  // the api\n  "a": [1, -2.5e3, "x\\u00e9", true, null,], /* end */\n}\n';
    const r = parseJsonText(text);
    expect(r.ok && r.value).toEqual({ a: [1, -2500, 'xé', true, null] });
    expect(r.ok && r.positionOf(['a', 2])).toEqual({ line: 3, column: 20 });
    expect(r.ok && r.positionOf(['a'])).toEqual({ line: 3, column: 3 });
    // A field that is not there: where its object starts.
    expect(r.ok && r.positionOf(['missing'])).toEqual({ line: 1, column: 1 });
  });
});
