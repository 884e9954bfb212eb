import { spawnSync } from 'node:child_process';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackPid } from './procs.js';
import { tempDir } from './tmp.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Plain node cannot load .ts, and a test must not rewrite dist/ under other test files running at
 * the same time: compile the given sources (paths relative to src/) with the project's own tsc into
 * a temp dir. Returns that dir, laid out like src/, able to import the project's packages.
 */
export function compileSources(entries: string[], prefix = 'devsup-js-'): string {
  const out = tempDir(prefix);
  const r = spawnSync(
    join(REPO, 'node_modules/.bin/tsc'),
    [
      '--ignoreConfig',
      '--outDir', out,
      '--rootDir', join(REPO, 'src'),
      '--module', 'nodenext',
      '--moduleResolution', 'nodenext',
      '--target', 'es2023',
      '--types', 'node',
      '--esModuleInterop',
      '--skipLibCheck',
      ...entries.map((e) => join(REPO, 'src', e)),
    ],
    { cwd: REPO, encoding: 'utf8', timeout: 120_000 },
  );
  trackPid(r.pid);
  const first = join(out, entries[0]!.replace(/\.ts$/, '.js'));
  if (r.status !== 0 || !existsSync(first)) throw new Error(`tsc failed (${r.error?.message ?? r.status}):\n${r.stdout}${r.stderr}`);
  // The emitted files are ESM, which node only assumes under a "type": "module" package.json.
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  symlinkSync(join(REPO, 'node_modules'), join(out, 'node_modules'));
  return out;
}
