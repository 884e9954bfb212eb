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

  it('lists every problem under one header line, exit code 2', async () => {
    const dir = tempDir();
    const file = join(dir, 'devsup.config.json');
    writeTree(dir, { 'devsup.config.json': JSON.stringify({ workers: [{ name: 'a', cmd: 'x', grace: '2s', bogus: 1 }] }) });
    const err = await loadError(file);
    expect(err.exitCode).toBe(2);
    expect(err.problems).toEqual(['workers[0].grace: expected a number of milliseconds, got "2s"', 'workers[0].bogus: unknown field']);
    expect(err.message).toBe(
      [`invalid config ${file}:`, '  workers[0].grace: expected a number of milliseconds, got "2s"', '  workers[0].bogus: unknown field'].join('\n'),
    );
  });

  it('gives the line and column of a JSON syntax error', async () => {
    const dir = tempDir();
    const file = join(dir, 'devsup.config.json');
    writeTree(dir, { 'devsup.config.json': '{\n  "workers": [\n    { "name": "api", },\n  ]\n}\n' });
    const err = await loadError(file);
    expect(err.message).toBe(`invalid config ${file}:\n  line 3, column 22: trailing comma before "}"`);
  });

  it('reports a missing file as a config problem', async () => {
    const file = join(tempDir(), 'nope.json');
    expect((await loadError(file)).problems).toEqual(['file not found']);
  });
});

describe('JSON syntax positions', () => {
  const cases: [string, number, number, string][] = [
    ['{"a": 1,}', 1, 9, 'trailing comma before "}"'],
    ['[1, 2,\n]', 2, 1, 'trailing comma before "]"'],
    ['{\n  "a": 1\n  "b": 2\n}', 3, 3, 'expected "," or "}", got "\\""'],
    ['{\n  // note\n  "a": 1\n}', 2, 3, 'expected a property name in double quotes, got "/" (JSON has no comments)'],
    ["{ 'a': 1 }", 1, 3, `expected a property name in double quotes, got "'" (JSON strings use double quotes)`],
    ['{"a": "one\ntwo"}', 1, 11, 'line break inside a string'],
    ['{"a": tru}', 1, 7, 'expected a value, got "t"'],
    ['{"a": 1} x', 1, 10, 'expected end of file after the value, got "x"'],
    ['{"a": [1, 2', 1, 12, 'unexpected end of file, expected "," or "]"'],
    ['', 1, 1, 'unexpected end of file, expected a value'],
    ['\uFEFF{\n "a": "\\q"}', 2, 8, 'invalid escape in string'],
  ];
  it.each(cases)('%j fails at line %i column %i', (text, line, column, reason) => {
    expect(parseJsonText(text)).toEqual({ ok: false, line, column, reason });
  });

  it('parses valid JSON, with or without a byte order mark', () => {
    expect(parseJsonText('\uFEFF{"a": [1, -2.5e3, "x\\u00e9", true, null]}')).toEqual({
      ok: true,
      value: { a: [1, -2500, 'xé', true, null] },
    });
  });
});
