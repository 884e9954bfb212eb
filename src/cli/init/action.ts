import { existsSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { loadConfig } from '../../config/load.js';
import { starterConfig } from '../../config/starter.js';
import type { InitOptions } from './command.js';

export async function initCommand(opts: InitOptions): Promise<number> {
  const file = resolve(opts.config);
  const shown = relative(process.cwd(), file) || file;
  if (existsSync(file) && !opts.force) throw new UsageError(`${shown} already exists; pass --force to replace it`);
  const text = starterConfig(dirname(file));
  // `wx` unless forced: a file that appeared meanwhile is not overwritten.
  writeFileSync(file, text, { flag: opts.force ? 'w' : 'wx' });
  const config = await loadConfig(file);
  const names = config.workers.map((w) => `${w.name} (${typeof w.cmd === 'string' ? w.cmd : w.cmd.join(' ')})`);
  process.stdout.write(`wrote ${shown} with ${names.join(', ')}\nedit it, then run: devsup up${opts.config === 'devsup.config.json' ? '' : ` --config ${opts.config}`}\n`);
  return 0;
}
