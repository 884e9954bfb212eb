import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DevsupProcess } from '../helpers/devsup.js';
import { tempDir } from '../helpers/tmp.js';

/** Packages that only some commands need; loading them elsewhere costs every start. */
const HEAVY = ['zod', 'blessed', 'ps-list', 'chokidar', '@parcel/watcher'];

/**
 * Runs devsup with a module resolve hook that writes every URL it resolves through `import` to a
 * file (commander, picomatch and ignore load through require and do not show).
 */
async function packagesLoaded(args: string[]): Promise<{ code: number | null; packages: Set<string> }> {
  const dir = tempDir('devsup-modules-');
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
  writeFileSync(preload, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
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
});
