import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DevsupProcess, runDevsup } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

const QUIT = ['--on-exit', 'quit', '--', 'node', '-e', 'process.exit(0)'];

function project(): string {
  const root = tempDir();
  writeTree(root, {
    'app.py': 'print("hi")\n',
    'src/lib.js': 'export const x = 1;\n',
    'tmp/cache/blob.bin': 'cached',
    'notes/.keep': '',
  });
  return root;
}

describe('a clear glob that matches sources', () => {
  for (const glob of ['*', '**', 'src/**', '*.py']) {
    it(`refuses --clear '${glob}' with one line and exit 2, deleting nothing`, async () => {
      const root = project();
      const r = await runDevsup(['run', '--clear', glob, ...QUIT], root);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`^devsup: clear glob "${glob.replace(/\*/g, '\\*')}" matches source files \\(.*(app\\.py|src/lib\\.js).*\\), which would be deleted before every start; .*--clear-sources`));
      expect(existsSync(join(root, 'app.py'))).toBe(true);
      expect(existsSync(join(root, 'src/lib.js'))).toBe(true);
      expect(existsSync(join(root, 'tmp/cache/blob.bin'))).toBe(true);
    });
  }

  it('accepts a glob that names a cache, and one whose matches the project ignores', async () => {
    const root = project();
    writeFileSync(join(root, '.gitignore'), 'gen/\n');
    writeTree(root, { 'gen/out.js': 'generated\n' });
    const r = await runDevsup(['run', '--clear', 'tmp/cache/**', '--clear', 'gen/**', ...QUIT], root);
    expect(r.stderr).not.toMatch(/matches source files/);
    expect(r.code).toBe(0);
    expect(existsSync(join(root, 'tmp/cache/blob.bin'))).toBe(false);
    expect(existsSync(join(root, 'gen/out.js'))).toBe(false);
    expect(existsSync(join(root, 'app.py'))).toBe(true);
  });

  it('with --ext, only files of those extensions are sources', async () => {
    const root = project();
    const r = await runDevsup(['run', '--ext', 'py', '--clear', 'src/**', ...QUIT], root);
    expect(r.code).toBe(0);
    expect(existsSync(join(root, 'src/lib.js'))).toBe(false);
    const refused = await runDevsup(['run', '--ext', 'py', '--clear', '*.py', ...QUIT], root);
    expect(refused.code).toBe(2);
  });

  it('--clear-sources says it is wanted: the glob clears what it matches', async () => {
    const root = project();
    const r = await runDevsup(['run', '--clear', 'src/**', '--clear-sources', ...QUIT], root);
    expect(r.code).toBe(0);
    expect(existsSync(join(root, 'src/lib.js'))).toBe(false);
    expect(existsSync(join(root, 'app.py'))).toBe(true);
  });

  it('up keeps the running set when a config edit makes a clear glob match sources', async () => {
    const root = project();
    const worker = { name: 'api', cmd: ['node', '-e', 'console.log("UP"); setInterval(() => {}, 1000)'] };
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [worker] }));
    const p = new DevsupProcess(['up', '--json'], { cwd: root });
    try {
      await p.waitForEvent((e) => e.type === 'ready', 'api ready');
      writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ ...worker, clear: ['*'] }] }));
      const refused = await p.waitForEvent((e) => e.type === 'config-check' && Array.isArray(e.problems) && e.problems.length > 0, 'the edit refused');
      expect((refused.problems as string[]).join('\n')).toMatch(/worker api: clear glob "\*" matches source files/);
      // The config file is a source of the worker too, so it may restart; never with the new clear.
      await new Promise((r) => setTimeout(r, 500));
      expect(p.events().some((e) => e.type === 'warning' && String(e.message).startsWith('config reloaded'))).toBe(false);
      expect(p.events().some((e) => e.type === 'caches-cleared')).toBe(false);
      expect(existsSync(join(root, 'app.py'))).toBe(true);
    } finally {
      expect(await p.stop('SIGINT')).toBe(130);
    }
  });

  it('up refuses a worker whose clear glob matches its sources, naming the worker', async () => {
    const root = project();
    writeFileSync(join(root, 'devsup.config.json'), JSON.stringify({ workers: [{ name: 'api', cmd: ['node', '-e', 'setInterval(() => {}, 1000)'], clear: ['**'] }] }));
    const r = await runDevsup(['up', '--no-tui'], root);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^devsup: worker api: clear glob "\*\*" matches source files/);
    expect(existsSync(join(root, 'app.py'))).toBe(true);
  });
});
