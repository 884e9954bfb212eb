import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NS = 1_000_000_000n;
export const MS = 1_000_000n;

// Pinned so the machine's own settings cannot change what Python does with __pycache__:
// a PYTHONPYCACHEPREFIX would hide the trap, SOURCE_DATE_EPOCH would make py_compile write hash-based pycs.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  PYTHONDONTWRITEBYTECODE: '1',
  PYTHONPYCACHEPREFIX: undefined,
  SOURCE_DATE_EPOCH: undefined,
  PYTHONPATH: undefined,
};

export function python(cwd: string, args: string[]): string {
  return execFileSync('python3', args, { cwd, env, encoding: 'utf8', timeout: 20_000 }).trim();
}

/** Exit status and output, for imports that are expected to fail. */
export function pythonStatus(cwd: string, args: string[]): { status: number | null; output: string } {
  const r = spawnSync('python3', args, { cwd, env, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

export const CACHE_TAG = python('/', ['-c', 'import sys; print(sys.implementation.cache_tag)']);

export type InvalidationMode = 'TIMESTAMP' | 'CHECKED_HASH' | 'UNCHECKED_HASH';

/** Compiles `file` (relative to dir) the way an import would cache it; returns the absolute .pyc path. */
export function pyCompile(dir: string, file: string, mode: InvalidationMode = 'TIMESTAMP'): string {
  python(dir, [
    '-c',
    'import sys, py_compile; py_compile.compile(sys.argv[1], doraise=True, invalidation_mode=py_compile.PycInvalidationMode[sys.argv[2]])',
    file,
    mode,
  ]);
  const mod = file.replace(/\.py$/, '');
  return join(dir, '__pycache__', `${mod}.${CACHE_TAG}.pyc`);
}

/** Exact nanosecond mtimes: Node's utimes takes seconds as a double, too coarse for this. */
export function setMtimeNs(path: string, ns: bigint): void {
  python('/', ['-c', 'import os, sys; n = int(sys.argv[2]); os.utime(sys.argv[1], ns=(n, n))', path, String(ns)]);
}

export const MAIN_PY = 'import mod\nprint("mod.X =", mod.X)\n';

/** What `python3 main.py` says mod.X is: the value it actually ran. */
export function importedValue(dir: string): string {
  return python(dir, ['main.py']);
}

/** A whole second a minute ago, in ns: far enough back that nothing real writes at that time. */
export function pastSecond(): bigint {
  return BigInt(Math.floor(Date.now() / 1000) - 60) * NS;
}

/**
 * The trap with explicit timestamps: the .pyc is written at T+0.2 s for a source stamped T+0.1 s,
 * then the source is rewritten with the same size at T+0.3 s. Header (T, 10 bytes) still matches.
 */
export function makeStaleTrap(dir: string): { source: string; pyc: string } {
  const t = pastSecond();
  const source = join(dir, 'mod.py');
  writeFileSync(join(dir, 'main.py'), MAIN_PY);
  writeFileSync(source, 'X = "aaa"\n');
  setMtimeNs(source, t + 100n * MS);
  const pyc = pyCompile(dir, 'mod.py');
  setMtimeNs(pyc, t + 200n * MS);
  writeFileSync(source, 'X = "bbb"\n');
  setMtimeNs(source, t + 300n * MS);
  return { source, pyc };
}
