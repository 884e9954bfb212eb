import { createHash } from 'node:crypto';
import { lstat, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePrivateDir, keepOutOfGit, readStateText, writeFileAtomic } from '../state/files.js';
import type { ConfigInput } from './schema.js';

/*
 * Loading the JSONC parser and zod takes about 45 ms of a 260 ms `devsup up` before its first
 * spawn, and a project starts with the same config over and over. So a config text that passed the
 * schema is recorded in the project's state directory with what the check produced (the parsed
 * value and the schema's output), keyed by a hash of that exact text and of the devsup build that
 * checked it. A start with the same text and build takes both from the record and loads neither
 * package. The checks that look at the file system and the resolution still run at every start.
 *
 * The record is only a shortcut: one that is missing, unreadable, a link, malformed, edited by hand
 * (its checksum no longer matches) or written by another build is a miss, and a record that cannot
 * be written is no reason to stop.
 */

export const CHECK_RECORD_NAME = 'config-check.json';
const FORMAT = 1;

/** What the full check of a config text produced. */
export interface CheckedText {
  /** The parsed JSONC value. */
  raw: unknown;
  /** The schema's output for it. */
  data: ConfigInput;
}

interface RecordFile {
  format: number;
  key: string;
  /** sha256 of key and `checked`, so that a record changed by hand is not trusted. */
  sum: string;
  /** CheckedText as JSON, kept as a string so the checksum covers its exact bytes. */
  checked: string;
}

let fingerprint: Promise<string> | undefined;

/**
 * Changes with every build of devsup, also in a checkout whose version stays the same: the size,
 * time and inode of this module's file and of the schema's file beside it (tsc's output writes both;
 * in the bundle the schema is a chunk whose hashed name this chunk imports, and every build writes
 * the bundle anew), and package.json, which holds the version.
 */
export function buildFingerprint(): Promise<string> {
  fingerprint ??= computeFingerprint();
  return fingerprint;
}

async function computeFingerprint(): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const files = [here, join(dirname(here), `schema${extname(here)}`)];
  const stamps = await Promise.all(
    files.map((f) => stat(f).then((st) => `${f} ${st.size} ${st.mtimeMs} ${st.ino}`, () => `${f} -`)),
  );
  const pkg = await readFile(new URL('../../package.json', import.meta.url), 'utf8').catch(() => '-');
  return [...stamps, pkg].join('\n');
}

/** The key of a config text checked by the build with this fingerprint. */
export function recordKey(fingerprint: string, text: string): string {
  return createHash('sha256').update(fingerprint).update('\0').update(text).digest('hex');
}

function checksum(key: string, checked: string): string {
  return createHash('sha256').update(key).update('\0').update(checked).digest('hex');
}

/** What an earlier check of the text with this key produced, or undefined for anything else. */
export async function readCheckRecord(stateDir: string, key: string): Promise<CheckedText | undefined> {
  try {
    // The state directory is never a link (devsup refuses to use one); the record itself is read
    // without following one.
    if (!(await lstat(stateDir)).isDirectory()) return undefined;
    const text = await readStateText(join(stateDir, CHECK_RECORD_NAME));
    if (text === undefined) return undefined;
    const rec = JSON.parse(text) as Partial<RecordFile> | null;
    if (rec === null || typeof rec !== 'object' || rec.format !== FORMAT || rec.key !== key) return undefined;
    if (typeof rec.checked !== 'string' || rec.sum !== checksum(key, rec.checked)) return undefined;
    const checked = JSON.parse(rec.checked) as Partial<CheckedText> | null;
    if (checked === null || typeof checked !== 'object' || !('raw' in checked)) return undefined;
    if (typeof checked.data !== 'object' || checked.data === null || !Array.isArray(checked.data.workers)) return undefined;
    return { raw: checked.raw, data: checked.data };
  } catch {
    return undefined;
  }
}

/**
 * Records a successful check. Only values that JSON gives back exactly are recorded: a number
 * JSON cannot hold (-0, a duration too long for a double) would come back different, and such a
 * config is simply checked at every start.
 */
export async function writeCheckRecord(stateDir: string, key: string, checked: CheckedText): Promise<boolean> {
  try {
    const json = JSON.stringify({ raw: checked.raw, data: checked.data });
    if (!sameJson(JSON.parse(json), { raw: checked.raw, data: checked.data })) return false;
    const rec: RecordFile = { format: FORMAT, key, sum: checksum(key, json), checked: json };
    await ensurePrivateDir(stateDir);
    await keepOutOfGit(stateDir);
    // Put in place by rename: a link planted at the record's path is replaced, not written through.
    await writeFileAtomic(join(stateDir, CHECK_RECORD_NAME), `${JSON.stringify(rec)}\n`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether two values hold the same JSON: plain objects with the same own keys, arrays, and
 * primitives equal by Object.is (so -0 is not 0). Prototypes aside: the JSONC parser makes objects
 * without one, JSON.parse with Object's, and nothing reads a config's fields through its prototype.
 * Anything else (a RegExp, a Date, undefined, a function) is not JSON, and never equal to what
 * JSON gives back.
 */
function sameJson(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return typeof a !== 'function' && typeof a !== 'symbol' && a !== undefined;
  if (!isPlain(a) || !isPlain(b) || Array.isArray(a) !== Array.isArray(b)) return false;
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && sameJson(a[k], b[k]));
}

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}
