import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

/** Packages that only some commands need; loading them elsewhere costs every start. */
const HEAVY = ['zod', 'blessed', 'ps-list', 'chokidar', '@parcel/watcher'];

/**
 * Runs devsup with a module resolve hook that writes every URL it resolves through `import` to a
 * file, and a require hook that writes every file loaded through require (commander, picomatch and
 * ignore load that way). `files` are written into the directory it runs in.
 */
async function packagesLoaded(args: string[], files: Record<string, string> = {}): Promise<{ code: number | null; packages: Set<string> }> {
  const dir = tempDir('devsup-modules-');
  writeTree(dir, files);
  const log = join(dir, 'loaded.txt');
  const hooks = join(dir, 'hooks.mjs');
  const preload = join(dir, 'preload.mjs');
  writeFileSync(log, '');
  writeFileSync(
    hooks,
    `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(${JSON.stringify(log)}, r.url + '\\n');
  return r;
}
`,
  );
  writeFileSync(
    preload,
    `import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(hooks).href)});
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const exports = load.call(this, request, parent, isMain);
  try { appendFileSync(${JSON.stringify(log)}, Module._resolveFilename(request, parent) + '\\n'); } catch {}
  return exports;
};
`,
  );
  const p = new DevsupProcess(args, { cwd: dir, env: { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` } });
  p.proc.stdin!.end();
  const { code } = await p.exit;
  const packages = new Set<string>();
  for (const url of readFileSync(log, 'utf8').split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) packages.add(m[1]!);
  }
  return { code, packages };
}

describe('what a command loads', () => {
  it('sees the packages a config is checked with (the hook works)', async () => {
    // init checks the config it writes; a text never checked before needs the schema.
    const { code, packages } = await packagesLoaded(['init']);
    expect(code).toBe(0);
    expect(packages.has('zod')).toBe(true);
    expect(packages.has('jsonc-parser')).toBe(true);
  });

  it('--version and run load none of the heavy packages', async () => {
    const version = await packagesLoaded(['--version']);
    expect(version.code).toBe(0);
    const run = await packagesLoaded(['run', '--on-exit', 'quit', '--', 'true']);
    expect(run.code).toBe(0);
    for (const pkg of HEAVY) {
      expect(version.packages.has(pkg), `--version loaded ${pkg}`).toBe(false);
      expect(run.packages.has(pkg), `run loaded ${pkg}`).toBe(false);
    }
  });

  it('loads picomatch and ignore only for a glob to match or a .gitignore to read', async () => {
    const run = ['run', '--on-exit', 'quit', '--', 'true'];
    const bare = await packagesLoaded(run, { 'app.py': 'x = 1\n' });
    expect(bare.code).toBe(0);
    expect(bare.packages.has('commander'), 'the require hook sees commander').toBe(true);
    expect(bare.packages.has('picomatch')).toBe(false);
    expect(bare.packages.has('ignore')).toBe(false);
    const withGlob = await packagesLoaded(['run', '--ignore', '*.log', ...run.slice(1)], { 'app.py': 'x = 1\n' });
    expect(withGlob.code).toBe(0);
    expect(withGlob.packages.has('picomatch')).toBe(true);
    const withGitignore = await packagesLoaded(run, { 'app.py': 'x = 1\n', '.gitignore': 'build/\n' });
    expect(withGitignore.code).toBe(0);
    expect(withGitignore.packages.has('ignore')).toBe(true);
  });
});
