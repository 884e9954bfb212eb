import { lstatSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { validateConfig } from '../../src/config/check.js';
import { buildFingerprint, CHECK_RECORD_NAME, recordKey, writeCheckRecord, type CheckedText } from '../../src/config/check-record.js';
import { loadConfig } from '../../src/config/load.js';
import type { ConfigInput } from '../../src/config/schema.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

/** Sets every field there is, in both spellings where there are two. */
const EVERY_FIELD = `{
  // editors read this
  "$schema": "./schema/devsup.schema.json",
  "defaults": {
    "cwd": ".", "env": { "MODE": "dev", "10": "ten" }, "envFile": ".env", "watch": ["src"], "ignore": ["*.log"],
    "ext": [".ts", "js"], "clear": ["pycache", "dist/**"], "clearCmd": "true", "settle": "250ms", "grace": 2000,
    "signal": "SIGINT", "kind": "service", "restart": "on-exit", "poll": true, "repeat": 1,
  },
  "workers": [
    { "name": "db", "cmd": ["node", "db.js"], "ready": { "port": 5433, "host": "127.0.0.1" }, "clear": false },
    { "name": "api", "cmd": "node api.js", "cwd": "api", "env": { "PORT": "3000" }, "envFile": ["../.env", ".env.local"],
      "dependsOn": ["db", "db"], "ready": { "log": "listening on (\\\\d+)" }, "grace": "1.5s", "signal": "SIGTERM", "watch": ["."] },
    { "name": "test", "cmd": ["pytest", "-q"], "kind": "task", "restart": "never", "repeat": 3, "junit": "out/junit.xml",
      "dependsOn": ["api"], "settle": 0, "clear": [], "ext": [] },
  ],
}
`;

function project(text = EVERY_FIELD): { dir: string; file: string; record: string } {
  const dir = tempDir();
  writeTree(dir, { 'devsup.config.json': text, 'src/a.ts': '', '.env': 'A=1\n', 'api/.env.local': 'B=2\n', 'api/x.js': '' });
  return { dir, file: join(dir, 'devsup.config.json'), record: join(dir, '.devsup', CHECK_RECORD_NAME) };
}

async function loadError(file: string): Promise<ConfigError> {
  const err = await loadConfig(file).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

/** A record that a loader trusting it would show: the first worker renamed. */
async function forged(dir: string, key: string): Promise<CheckedText> {
  const raw = JSON.parse(JSON.stringify({ workers: [{ name: 'forged', cmd: 'x' }] })) as unknown;
  const data = raw as ConfigInput;
  expect(await writeCheckRecord(join(dir, '.devsup'), key, { raw, data })).toBe(true);
  return { raw, data };
}

async function currentKey(file: string): Promise<string> {
  return recordKey(await buildFingerprint(), readFileSync(file, 'utf8'));
}

describe('the check record', () => {
  it('gives a later start the same resolved config as a full check, for a config using every field', async () => {
    const { dir, file, record } = project();
    const first = await loadConfig(file);
    expect(lstatSync(record).isFile()).toBe(true);
    expect(statSync(record).mode & 0o777).toBe(0o600);
    const again = await loadConfig(file);
    expect(again).toEqual(first);
    const raw = JSON.parse(readFileSync(file, 'utf8').replace(/\/\/.*\n/, '').replace(/,(\s*[}\]])/g, '$1')) as unknown;
    expect(again).toStrictEqual(validateConfig(raw, dir, file));
    const api = again.workers.find((w) => w.name === 'api')!;
    expect([api.ready, api.grace, api.settle, api.dependsOn, api.envFile, api.env]).toEqual([
      { log: 'listening on (\\d+)' },
      1500,
      250,
      ['db'],
      [join(dir, '.env'), join(dir, 'api/.env.local')],
      { MODE: 'dev', 10: 'ten', PORT: '3000' },
    ]);
    expect(again.workers.map((w) => [w.name, w.kind, w.junit, w.clear])).toEqual([
      ['db', 'service', null, false],
      ['api', 'service', null, ['pycache', 'dist/**']],
      ['test', 'task', join(dir, 'out/junit.xml'), []],
    ]);
  });

  it('is what a start with the same text and build uses', async () => {
    const { dir, file } = project();
    await forged(dir, await currentKey(file));
    expect((await loadConfig(file)).workers.map((w) => w.name)).toEqual(['forged']);
  });

  it('is not used for a changed text, whose problems are reported with line and column and not recorded', async () => {
    const { file, record } = project('{ "workers": [{ "name": "a", "cmd": "x" }] }');
    await loadConfig(file);
    const kept = readFileSync(record, 'utf8');
    writeFileSync(file, '{\n  "workers": [\n    { "name": "a", "cmd": "x", "grace": "soon", "watch": ["gone"] }\n  ]\n}\n');
    expect((await loadError(file)).problems).toEqual([
      'workers[0].grace (line 3, column 32): expected a duration (500, 500ms, 2s, 1m), got "soon"',
      `workers[0].watch[0] (line 3, column 59): path does not exist: ${join(file, '../gone')}`,
    ]);
    expect(readFileSync(record, 'utf8')).toBe(kept);
  });

  it('does not hide a path that has gone since the text was recorded', async () => {
    const { dir, file } = project('{\n  "workers": [\n    { "name": "a", "cmd": "x", "watch": ["src"] }\n  ]\n}\n');
    await loadConfig(file);
    rmSync(join(dir, 'src'), { recursive: true });
    expect((await loadError(file)).problems).toEqual([`workers[0].watch[0] (line 3, column 42): path does not exist: ${join(dir, 'src')}`]);
  });

  it.each([
    ['garbage', 'not json at all {'],
    ['empty', ''],
    ['null', 'null'],
    ['an array', '[]'],
    ['no fields', '{}'],
    ['a format of another kind', '{"format":"1","key":"k","sum":"s","checked":"{}"}'],
    ['checked as an object', '{"format":1,"key":"k","sum":"s","checked":{"raw":{},"data":{"workers":[]}}}'],
  ])('is a miss when it holds %s, and is replaced', async (_what, content) => {
    const { dir, file, record } = project();
    mkdirSync(join(dir, '.devsup'), { mode: 0o700 });
    // A record with the right key, but otherwise broken, must be a miss too.
    writeFileSync(record, content.replace('"k"', JSON.stringify(await currentKey(file))));
    const config = await loadConfig(file);
    expect(config.workers.map((w) => w.name)).toEqual(['db', 'api', 'test']);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toMatchObject({ format: 1, key: await currentKey(file) });
  });

  it('is a miss when edited by hand, and is replaced', async () => {
    const { dir, file, record } = project();
    await forged(dir, await currentKey(file));
    const rec = JSON.parse(readFileSync(record, 'utf8')) as { checked: string };
    rec.checked = rec.checked.replace('"forged"', '"edited"');
    writeFileSync(record, JSON.stringify(rec));
    expect((await loadConfig(file)).workers.map((w) => w.name)).toEqual(['db', 'api', 'test']);
    expect(readFileSync(record, 'utf8')).not.toContain('edited');
    expect((await loadConfig(file)).workers.map((w) => w.name)).toEqual(['db', 'api', 'test']);
  });

  it('is a miss when written by another build', async () => {
    const { dir, file, record } = project();
    await forged(dir, recordKey('another build', readFileSync(file, 'utf8')));
    expect((await loadConfig(file)).workers.map((w) => w.name)).toEqual(['db', 'api', 'test']);
    expect(JSON.parse(readFileSync(record, 'utf8'))).toMatchObject({ key: await currentKey(file) });
  });

  it('is neither read nor written through a symlink planted at its path', async () => {
    const { dir, file, record } = project();
    const elsewhere = tempDir();
    await forged(elsewhere, await currentKey(file));
    const target = join(elsewhere, '.devsup', CHECK_RECORD_NAME);
    const planted = readFileSync(target, 'utf8');
    mkdirSync(join(dir, '.devsup'), { mode: 0o700 });
    symlinkSync(target, record);
    expect((await loadConfig(file)).workers.map((w) => w.name)).toEqual(['db', 'api', 'test']);
    expect(readFileSync(target, 'utf8')).toBe(planted);
    // The link was replaced by a record of its own.
    expect(lstatSync(record).isFile()).toBe(true);
    expect((await loadConfig(file)).workers.map((w) => w.name)).toEqual(['db', 'api', 'test']);
  });

  it('is neither read nor written through a state directory that is a symlink', async () => {
    const { dir, file } = project();
    const elsewhere = tempDir();
    await forged(elsewhere, await currentKey(file));
    const planted = readFileSync(join(elsewhere, '.devsup', CHECK_RECORD_NAME), 'utf8');
    symlinkSync(join(elsewhere, '.devsup'), join(dir, '.devsup'));
    expect((await loadConfig(file)).workers.map((w) => w.name)).toEqual(['db', 'api', 'test']);
    expect(readFileSync(join(elsewhere, '.devsup', CHECK_RECORD_NAME), 'utf8')).toBe(planted);
  });

  it('never stops a start when it cannot be kept', async () => {
    const { dir, file } = project();
    writeFileSync(join(dir, '.devsup'), 'a file where the state directory belongs');
    expect((await loadConfig(file)).workers).toHaveLength(3);
    expect((await loadConfig(file)).workers).toHaveLength(3);
  });

  it('is not written for a config whose checked value JSON cannot hold', async () => {
    // A duration too long for a double comes out of the check as Infinity, which JSON writes as null.
    const { file, record } = project(`{ "workers": [{ "name": "a", "cmd": "x", "settle": "${'9'.repeat(400)}ms" }] }`);
    expect((await loadConfig(file)).workers[0]!.settle).toBe(Infinity);
    expect(() => lstatSync(record)).toThrow(/ENOENT/);
    expect((await loadConfig(file)).workers[0]!.settle).toBe(Infinity);
  });
});
