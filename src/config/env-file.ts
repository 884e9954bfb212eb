import { readFileSync, statSync } from 'node:fs';
import { parseEnv } from 'node:util';

/**
 * Variables of `.env` files, later files overriding earlier ones. Parsed by node's own parser (the
 * one behind `node --env-file`): comments, quotes, `export` and multi-line values, no expansion.
 * Read again before every start, so an edited file takes effect with the restart its edit causes;
 * a file deleted since devsup started contributes nothing.
 */
export function readEnvFiles(paths: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of paths) {
    let text: string;
    try {
      // Only a regular file: a named pipe put in its place would block every start.
      if (!statSync(p).isFile()) continue;
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    for (const [k, v] of Object.entries(parseEnv(text))) if (v !== undefined) out[k] = v;
  }
  return out;
}
