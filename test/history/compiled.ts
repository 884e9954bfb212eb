import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Child processes run the real store, but plain node cannot load .ts: compile src/history with
 * the project's own tsc into a temp dir. Returns that dir (holding history/ and core/).
 */
export function compileHistory(): string {
  const out = tempDir('devsup-history-js-');
  const r = spawnSync(
    join(repo, 'node_modules/.bin/tsc'),
    [
      '--ignoreConfig',
      '--outDir', out,
      '--rootDir', join(repo, 'src'),
      '--module', 'nodenext',
      '--moduleResolution', 'nodenext',
      '--target', 'es2023',
      '--types', 'node',
      '--skipLibCheck',
      join(repo, 'src/history/store.ts'),
      join(repo, 'src/history/lock.ts'),
    ],
    { cwd: repo, encoding: 'utf8' },
  );
  trackPid(r.pid);
  if (r.status !== 0) throw new Error(`tsc failed (${r.error?.message ?? r.status}):\n${r.stdout}${r.stderr}`);
  // The emitted files are ESM, which node only assumes under a "type": "module" package.json.
  writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
  return out;
}
