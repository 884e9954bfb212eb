import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { genericMessage, issuesToProblems } from './issues.js';
import { parseJsonText, type Position } from './json-text.js';
import { resolveWorkers } from './resolve.js';
import { ConfigSchema } from './schema.js';
import { semanticProblems } from './semantics.js';
import type { ResolvedConfig } from './types.js';

export { diffConfigs, type ConfigDiff } from './diff.js';
export type { ReadySpec, ResolvedConfig, ResolvedWorker, Signal } from './types.js';

export const CONFIG_FILE_NAME = 'devsup.config.json';

/** Reads, parses and checks a config file; throws one ConfigError listing every problem found. */
export async function loadConfig(file: string): Promise<ResolvedConfig> {
  const abs = resolve(file);
  let text: string;
  try {
    // A FIFO or a device would block the read (a FIFO until someone writes to it) or never end.
    const st = await stat(abs);
    if (!st.isFile()) throw configError(file, [`not a regular file (${st.isFIFO() ? 'a named pipe' : st.isDirectory() ? 'a directory' : 'a special file'})`]);
    text = await readFile(abs, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${String(err)}`;
    throw configError(file, [reason]);
  }
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw configError(file, parsed.problems.map((p) => `line ${p.line}, column ${p.column}: ${p.reason}`));
  const result = checkConfig(parsed.value, dirname(abs), abs);
  if (!result.ok) throw configError(file, result.problems.map((p) => withPosition(p, parsed.positionOf)));
  return result.config;
}

/** `workers[1].grace: …` becomes `workers[1].grace (line 9, column 7): …`; problems without a path stay as they are. */
function withPosition(problem: string, positionOf: (path: readonly PropertyKey[]) => Position | undefined): string {
  const m = /^([A-Za-z$][\w$]*(?:\.[A-Za-z$][\w$]*|\[\d+\])*): /.exec(problem);
  if (!m) return problem;
  const path = [...m[1]!.matchAll(/([A-Za-z$][\w$]*)|\[(\d+)\]/g)].map((p) => (p[2] !== undefined ? Number(p[2]) : p[1]!));
  const at = positionOf(path);
  return at ? `${m[1]} (line ${at.line}, column ${at.column}): ${problem.slice(m[0].length)}` : problem;
}

/**
 * Checks an already parsed config whose relative paths start at `baseDir`. For tests and for hot
 * reload, where the caller keeps the old config when this throws.
 */
export function validateConfig(raw: unknown, baseDir: string, file = join(baseDir, CONFIG_FILE_NAME)): ResolvedConfig {
  const result = checkConfig(raw, resolve(baseDir), resolve(file));
  if (!result.ok) throw configError(file, result.problems);
  return result.config;
}

type Checked = { ok: true; config: ResolvedConfig } | { ok: false; problems: string[] };

function checkConfig(raw: unknown, dir: string, file: string): Checked {
  const parsed = ConfigSchema.safeParse(raw, { error: genericMessage });
  const problems = [...(parsed.success ? [] : issuesToProblems(parsed.error.issues)), ...semanticProblems(raw, dir)];
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  return { ok: true, config: { file, dir, workers: resolveWorkers(parsed.data, dir) } };
}

function configError(file: string, problems: string[]): ConfigError {
  return new ConfigError([`invalid config ${file}:`, ...problems.map((p) => `  ${p}`)].join('\n'), problems);
}
