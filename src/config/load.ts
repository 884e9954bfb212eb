import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '../core/errors.js';
import { stateDirOf } from '../state/paths.js';
import { buildFingerprint, readCheckRecord, recordKey, writeCheckRecord } from './check-record.js';
import { configError } from './config-error.js';
import type { Position } from './json-text.js';
import { resolveWorkers } from './resolve.js';
import { semanticProblems } from './semantics.js';
import type { ResolvedConfig } from './types.js';

export { diffConfigs, type ConfigDiff } from './diff.js';
export { CONFIG_FILE_NAME } from './fields.js';
export type { ReadySpec, ResolvedConfig, ResolvedWorker, Signal } from './types.js';

/**
 * Reads, parses and checks a config file; throws one ConfigError listing every problem found.
 * A text this build has checked before is taken from the project's check record
 * (check-record.ts) without loading the parser and the schema; they are imported only otherwise.
 * `text`: the file's content, when the caller has just read it with readConfigText.
 */
export async function loadConfig(file: string, text?: string): Promise<ResolvedConfig> {
  const abs = resolve(file);
  const dir = dirname(abs);
  text ??= await readConfigText(file);
  const stateDir = stateDirOf(dir);
  const key = await buildFingerprint().then(
    (fp) => recordKey(fp, text),
    () => undefined,
  );
  const known = key === undefined ? undefined : await readCheckRecord(stateDir, key);
  // A path that has gone since is reported by the full check below, with its line and column.
  if (known !== undefined && semanticProblems(known.raw, dir).length === 0) {
    try {
      return { file: abs, dir, workers: resolveWorkers(known.data, dir) };
    } catch {
      // Only a forged record gets here; the full check says what is wrong with the config, if anything.
    }
  }

  const { parseJsonText } = await import('./json-text.js');
  const { checkConfig } = await import('./check.js');
  const parsed = parseJsonText(text);
  if (!parsed.ok) throw configError(file, parsed.problems.map((p) => `line ${p.line}, column ${p.column}: ${p.reason}`));
  const result = checkConfig(parsed.value, dir, abs);
  if (!result.ok) throw configError(file, result.problems.map((p) => withPosition(p, parsed.positionOf)));
  if (key !== undefined) await writeCheckRecord(stateDir, key, { raw: parsed.value, data: result.data });
  return result.config;
}

/** The config file's text; a ConfigError for anything but a readable regular file. */
export async function readConfigText(file: string): Promise<string> {
  const abs = resolve(file);
  try {
    // A FIFO or a device would block the read (a FIFO until someone writes to it) or never end.
    const st = await stat(abs);
    if (!st.isFile()) throw configError(file, [`not a regular file (${st.isFIFO() ? 'a named pipe' : st.isDirectory() ? 'a directory' : 'a special file'})`]);
    return await readFile(abs, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : `cannot read: ${String(err)}`;
    throw configError(file, [reason]);
  }
}

/** `workers[1].grace: …` becomes `workers[1].grace (line 9, column 7): …`; problems without a path stay as they are. */
function withPosition(problem: string, positionOf: (path: readonly PropertyKey[]) => Position | undefined): string {
  const m = /^([A-Za-z$][\w$]*(?:\.[A-Za-z$][\w$]*|\[\d+\])*): /.exec(problem);
  if (!m) return problem;
  const path = [...m[1]!.matchAll(/([A-Za-z$][\w$]*)|\[(\d+)\]/g)].map((p) => (p[2] !== undefined ? Number(p[2]) : p[1]!));
  const at = positionOf(path);
  return at ? `${m[1]} (line ${at.line}, column ${at.column}): ${problem.slice(m[0].length)}` : problem;
}
