import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJsonText } from '../../src/config/json-text.js';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

let running: DevsupProcess[] = [];
afterEach(async () => {
  for (const p of running) await p.stop('SIGTERM').catch(() => undefined);
  running = [];
});

function written(root: string): { workers: Array<Record<string, unknown>> } {
  const r = parseJsonText(readFileSync(join(root, 'devsup.config.json'), 'utf8'));
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.value as { workers: Array<Record<string, unknown>> };
}

describe('devsup init', () => {
  it('writes a commented config from package.json scripts that `up` runs as it is', async () => {
    const root = tempDir();
    writeTree(root, {
      'package.json': JSON.stringify({ scripts: { start: 'node server.js', test: 'node -e "console.log(\'TESTS RAN\')"' } }),
      'server.js': "console.log('SERVER pid=' + process.pid); setInterval(() => {}, 1000);",
    });
    const r = await runDevsup(['init'], root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('wrote devsup.config.json with app (npm run --silent start), test (npm test --silent)');
    const text = readFileSync(join(root, 'devsup.config.json'), 'utf8');
    expect(text).toMatch(/^\/\/ devsup config/);
    expect(text).toContain('// From package.json: "start": "node server.js".');
    expect(written(root).workers.map((w) => [w.name, w.kind ?? 'service'])).toEqual([
      ['app', 'service'],
      ['test', 'task'],
    ]);
    const p = new DevsupProcess(['up', '--no-tui'], { cwd: root });
    running.push(p);
    await p.waitForLine(/^app \| SERVER pid=\d+/, 'the service', 20_000);
    await p.waitForLine(/^test \| TESTS RAN/, 'the test task', 20_000);
  });

  it('finds a Python app and its pytest suite', async () => {
    const root = tempDir();
    writeTree(root, { 'app.py': 'print("hi")\n', 'tests/test_app.py': 'def test_x():\n    assert True\n' });
    expect((await runDevsup(['init'], root)).code).toBe(0);
    expect(written(root).workers.map((w) => [w.name, w.cmd])).toEqual([
      ['app', ['python3', 'app.py']],
      ['pytest', ['python3', '-m', 'pytest', '-x', '-q']],
    ]);
  });

  it('writes a placeholder for an empty directory, and never overwrites without --force', async () => {
    const root = tempDir();
    expect((await runDevsup(['init'], root)).code).toBe(0);
    expect(readFileSync(join(root, 'devsup.config.json'), 'utf8')).toContain('Nothing recognisable was found');
    writeFileSync(join(root, 'devsup.config.json'), '{"workers": [{"name": "mine", "cmd": "true"}]}');
    const again = await runDevsup(['init'], root);
    expect(again.code).toBe(2);
    expect(again.stderr.trim()).toBe('devsup: devsup.config.json already exists; pass --force to replace it');
    expect(written(root).workers[0]!.name).toBe('mine');
    expect((await runDevsup(['init', '--force'], root)).code).toBe(0);
    expect(written(root).workers[0]!.name).toBe('app');
  });

  it('up without a config points at init', async () => {
    const r = await runDevsup(['up'], tempDir());
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^devsup: no config file at .*devsup\.config\.json; run "devsup init" to write a commented starter config/);
  });
});
