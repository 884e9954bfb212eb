import { execFileSync } from 'node:child_process';
import { readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createFilter } from '../../src/watch/filter.js';
import { Snapshotter } from '../../src/watch/snapshot.js';
import { walkFiles } from '../../src/watch/walk.js';

/**
 * The environment of every python3 child here. Variables that would change where bytecode goes,
 * whether it is written, or how py_compile validates it are removed so the test sees Python's
 * defaults whatever the machine sets (this one sets PYTHONDONTWRITEBYTECODE=1).
 */
export function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of ['PYTHONPYCACHEPREFIX', 'PYTHONDONTWRITEBYTECODE', 'SOURCE_DATE_EPOCH', 'PYTHONSAFEPATH', 'PYTHONPATH']) delete env[k];
  return env;
}

export function python(cwd: string, args: string[], extraEnv: Record<string, string> = {}): string {
  return execFileSync('python3', args, { cwd, env: { ...baseEnv(), ...extraEnv }, encoding: 'utf8', timeout: 20_000 }).trim();
}

/** Files under `dir` (recursively, relative) whose name matches. */
export function findFiles(dir: string, re: RegExp): string[] {
  try {
    return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((rel) => re.test(rel.split('/').pop() ?? ''));
  } catch {
    return [];
  }
}

/** Whole-second mtime, as a timestamp pyc records it. */
export function mtimeSec(file: string): number {
  return Math.floor(statSync(file).mtimeMs / 1000);
}

/** Writes `content` and puts back the whole-second mtime the file had: a same-second edit, made deterministic. */
export function editKeepingMtime(file: string, content: string): void {
  const sec = mtimeSec(file);
  writeFileSync(file, content);
  utimesSync(file, sec, sec);
}

/** Content snapshots of the project's Python files, as a worker watching it would take them. */
export function pythonSnapshots(root: string, ignore: string[] = []): Snapshotter {
  const filter = createFilter({ roots: [root], ignore, ext: ['py'], gitignore: false });
  return new Snapshotter(() => walkFiles([root], filter, () => undefined), root);
}

/** Bytecode of `name` (e.g. `mod`) in the prefix's mirror of `dir`. */
export function pycOf(prefix: string, dir: string, name: string): string[] {
  return findFiles(join(prefix, dir), new RegExp(`^${name}\\.cpython-\\d+\\.pyc$`)).map((rel) => join(prefix, dir, rel));
}

/** A file's inode: a pyc Python rewrote is a new file (it writes a temp file and renames it). */
export function inode(file: string): number {
  return statSync(file).ino;
}

/** Seconds since the epoch an hour ago: old enough that every stat of it is trusted. */
export function anHourAgo(): number {
  return Math.floor(Date.now() / 1000) - 3600;
}

export function setMtime(file: string, sec: number): void {
  utimesSync(file, sec, sec);
}
