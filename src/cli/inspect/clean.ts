import { join, relative } from 'node:path';
import { clearCaches } from '../../caches/clear.js';
import { refuseClearOfSources } from '../../caches/guard.js';
import { PRESET_NAMES, parseClearSpec } from '../../caches/presets.js';
import { pycacheRoot } from '../../caches/pycache-prefix.js';
import { removePycache } from '../../caches/pycache-prune.js';
import { formatBytes } from '../../views/format.js';
import type { CleanOptions } from './commands.js';
import { projectDir } from './root.js';

/**
 * Without --clear every preset applies; with it, exactly what it names: `--clear 'tmp/**'` clears
 * tmp/** only, `--clear python,tmp/**` bytecode and tmp. A glob that matches source files is
 * refused as by `run`. Confinement (nothing outside DIR, no symlink followed out of it) is
 * clearCaches' own guarantee.
 */
export async function cleanCommand(dir: string | undefined, opts: CleanOptions): Promise<number> {
  const root = projectDir(dir);
  const spec = parseClearSpec(opts.clear ?? []);
  const presets = opts.clear === undefined ? [...PRESET_NAMES] : spec.presets;
  const dryRun = opts.dryRun === true;
  await refuseClearOfSources({ roots: [root], globs: spec.globs, when: 'now' }, opts.clearSources === true, '--clear-sources');
  const result = await clearCaches({ roots: [root], presets, globs: spec.globs, dryRun });
  if (presets.includes('python')) {
    // The bytecode devsup's own Python children wrote: outside the tree the search walks.
    const own = await removePycache(pycacheRoot(join(root, '.devsup')), dryRun);
    result.paths.push(...own.paths);
    result.bytes += own.bytes;
    result.errors.push(...own.errors);
  }

  const lines = result.paths.map((p) => `${dryRun ? 'would remove' : 'removed'} ${relative(root, p) || '.'}`);
  const n = result.paths.length;
  const size = `${formatBytes(result.bytes)} (${result.bytes} bytes)`;
  const count = `${n} ${n === 1 ? 'path' : 'paths'}`;
  if (n === 0) lines.push(`nothing to clean in ${root}`);
  else lines.push(dryRun ? `${count}, ${size} would be freed in ${root}` : `${count} removed, ${size} freed in ${root}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  for (const e of result.errors) process.stderr.write(`devsup: could not clean ${e}\n`);
  return result.errors.length > 0 ? 1 : 0;
}
