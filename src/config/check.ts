import { join, resolve } from 'node:path';
import { configError } from './config-error.js';
import { CONFIG_FILE_NAME } from './fields.js';
import { genericMessage, issuesToProblems } from './issues.js';
import { resolveWorkers } from './resolve.js';
import { ConfigSchema, type ConfigInput } from './schema.js';
import { semanticProblems } from './semantics.js';
import type { ResolvedConfig } from './types.js';

/*
 * The full check of a parsed config by the schema (zod) and by the checks that need the whole
 * config. load.ts imports this module only when a config's text has not passed it before.
 */

export type Checked = { ok: true; data: ConfigInput; config: ResolvedConfig } | { ok: false; problems: string[] };

export function checkConfig(raw: unknown, dir: string, file: string): Checked {
  const parsed = ConfigSchema.safeParse(raw, { error: genericMessage });
  const problems = [...(parsed.success ? [] : issuesToProblems(parsed.error.issues)), ...semanticProblems(raw, dir)];
  if (!parsed.success || problems.length > 0) return { ok: false, problems };
  return { ok: true, data: parsed.data, config: { file, dir, workers: resolveWorkers(parsed.data, dir) } };
}

/**
 * Checks an already parsed config whose relative paths start at `baseDir`; throws one ConfigError
 * listing every problem, without line numbers (there is no text to point into).
 */
export function validateConfig(raw: unknown, baseDir: string, file = join(baseDir, CONFIG_FILE_NAME)): ResolvedConfig {
  const result = checkConfig(raw, resolve(baseDir), resolve(file));
  if (!result.ok) throw configError(file, result.problems);
  return result.config;
}
