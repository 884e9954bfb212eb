import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { didYouMean } from './describe.js';
import { findCycles } from './graph.js';
import { BUILTIN_DEFAULTS } from './fields.js';

/**
 * Checks that need the whole config: names, dependsOn and paths on disk. They read the raw value
 * leniently, skipping whatever the schema already rejected, so that one run reports every problem.
 */
export function semanticProblems(raw: unknown, baseDir: string): string[] {
  if (!isRecord(raw) || !Array.isArray(raw.workers)) return [];
  const defaults = isRecord(raw.defaults) ? raw.defaults : {};
  const workers = raw.workers.map((w: unknown) => (isRecord(w) ? w : {}));
  return [...nameProblems(workers), ...pathProblems(workers, defaults, baseDir)];
}

type Raw = Record<string, unknown>;

function nameProblems(workers: Raw[]): string[] {
  const problems: string[] = [];
  const firstIndex = new Map<string, number>();
  workers.forEach((w, i) => {
    if (typeof w.name !== 'string') return;
    const first = firstIndex.get(w.name);
    if (first === undefined) firstIndex.set(w.name, i);
    else problems.push(`workers[${i}].name: duplicate worker name ${JSON.stringify(w.name)} (also workers[${first}])`);
  });

  const deps = new Map<string, string[]>();
  workers.forEach((w, i) => {
    const list = Array.isArray(w.dependsOn) ? w.dependsOn : [];
    const known: string[] = [];
    list.forEach((dep: unknown, j) => {
      if (typeof dep !== 'string' || dep === '') return;
      if (firstIndex.has(dep)) known.push(dep);
      else problems.push(`workers[${i}].dependsOn[${j}]: unknown worker ${JSON.stringify(dep)}${didYouMean(dep, firstIndex.keys())}`);
    });
    if (typeof w.name === 'string' && firstIndex.get(w.name) === i) deps.set(w.name, known);
  });
  for (const cycle of findCycles([...firstIndex.keys()], deps)) problems.push(`dependsOn cycle: ${cycle.join(' -> ')}`);
  return problems;
}

/** A missing cwd is reported alone: every watch path under it would be missing too. */
function pathProblems(workers: Raw[], defaults: Raw, baseDir: string): string[] {
  const problems: string[] = [];
  workers.forEach((w, i) => {
    const cwd = inherited(w, defaults, 'cwd', i, BUILTIN_DEFAULTS.cwd);
    if (typeof cwd.value !== 'string' || cwd.value === '') return;
    const cwdAbs = resolve(baseDir, cwd.value);
    const kind = kindOf(cwdAbs);
    if (kind !== 'dir') {
      const reason = kind === 'missing' ? 'directory does not exist' : 'not a directory';
      problems.push(`${cwd.label}: ${reason}: ${cwdAbs}${cwd.note}`);
      return;
    }
    const watch = inherited(w, defaults, 'watch', i, BUILTIN_DEFAULTS.watch);
    if (!Array.isArray(watch.value)) return;
    watch.value.forEach((p: unknown, j) => {
      if (typeof p !== 'string' || p === '') return;
      const abs = resolve(cwdAbs, p);
      if (kindOf(abs) === 'missing') problems.push(`${watch.label}[${j}]: path does not exist: ${abs}${watch.note}`);
    });
    const envFile = inherited(w, defaults, 'envFile', i, BUILTIN_DEFAULTS.envFile);
    const files = typeof envFile.value === 'string' ? [envFile.value] : Array.isArray(envFile.value) ? envFile.value : [];
    files.forEach((p: unknown, j) => {
      if (typeof p !== 'string' || p === '') return;
      const abs = resolve(cwdAbs, p);
      const at = typeof envFile.value === 'string' ? envFile.label : `${envFile.label}[${j}]`;
      const kind = kindOf(abs);
      const why = kind === 'dir' ? 'a directory, not an env file' : kind === 'special' ? 'not a regular file (a named pipe or a device)' : 'file does not exist';
      if (kind !== 'file') problems.push(`${at}: ${why}: ${abs}${envFile.note}`);
    });
  });
  return problems;
}

interface Inherited {
  value: unknown;
  /** Where the value was written, so the user knows which line to fix. */
  label: string;
  note: string;
}

function inherited(w: Raw, defaults: Raw, field: string, i: number, builtin: unknown): Inherited {
  if (w[field] !== undefined) return { value: w[field], label: `workers[${i}].${field}`, note: '' };
  if (defaults[field] !== undefined) {
    return { value: defaults[field], label: `defaults.${field}`, note: ` (for workers[${i}])` };
  }
  return { value: builtin, label: `workers[${i}].${field}`, note: ` (default ${JSON.stringify(builtin)})` };
}

function kindOf(path: string): 'dir' | 'file' | 'special' | 'missing' {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return 'missing';
    // A named pipe or a device would block the read of an env file until someone writes to it.
    return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'special';
  } catch {
    // Unreadable or malformed (a NUL byte) paths are as good as missing for a watcher.
    return 'missing';
  }
}

function isRecord(v: unknown): v is Raw {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
