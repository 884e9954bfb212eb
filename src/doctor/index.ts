import { isAbsolute, relative, sep } from 'node:path';
import { checkClockSkew } from './clock-skew.js';
import { checkFilesystems, type MountsReader } from './filesystems.js';
import { checkFiles, type ContentWitness } from './pyc.js';
import { SavedContent } from '../stale/saved-content.js';
import type { Finding } from './types.js';
import { checkStateLinks } from './state-links.js';
import { listTree, type SkipDir } from './walk.js';
import { checkWatchLimit, type WatchLimitReader } from './watch-limit.js';

export type { CheckName, Finding, Severity } from './types.js';
export type { SkipDir } from './walk.js';
export { defaultSkipDir } from './walk.js';
export { checkBytecode, parsePycHeader, readPycHeader, type ContentWitness, type PycHeader } from './pyc.js';
export { checkClockSkew } from './clock-skew.js';
export {
  checkFilesystems,
  isUnreliableFs,
  mountFor,
  parseMounts,
  readProcMounts,
  shouldPoll,
  type Mount,
  type MountsReader,
} from './filesystems.js';
export { checkStateLinks } from './state-links.js';
export { checkWatchLimit, readMaxUserWatches, type WatchLimitReader } from './watch-limit.js';

export interface DoctorOptions {
  /** Replaces the default skips (.git, node_modules, .venv, venv). */
  skipDir?: SkipDir;
  /** Directories the watcher will watch; counted from the walk when absent. */
  dirCount?: number;
  readWatchLimit?: WatchLimitReader;
  readMounts?: MountsReader;
  /** Local clock in ms, for the clock-skew probe. */
  now?: () => number;
  /** Knows sources' earlier contents; devsup's saved index of the first root by default. */
  witness?: ContentWitness;
}

export async function runChecks(roots: readonly string[], opts: DoctorOptions = {}): Promise<Finding[]> {
  const listing = await listTree(roots, opts.skipDir);
  const dirCount = opts.dirCount ?? listing.dirs.length;
  const groups = await Promise.all([
    checkFiles(listing.files, opts.witness ?? SavedContent.find(roots[0] ?? '.')),
    checkClockSkew(roots, { now: opts.now }),
    checkFilesystems(roots, opts.readMounts),
    checkWatchLimit(dirCount, opts.readWatchLimit),
    checkStateLinks(roots),
  ]);
  const all = groups.flat();
  return [...all.filter((f) => f.severity === 'hazard'), ...all.filter((f) => f.severity === 'info')];
}

/** One block of lines per finding; paths under `base` are shown relative to it. */
export function formatFindings(findings: readonly Finding[], base?: string): string[] {
  return findings.map((f) => {
    const head = `${f.severity === 'hazard' ? 'HAZARD' : 'info'}  ${f.check}`;
    const lines = [f.file === undefined ? head : `${head}  ${displayPath(f.file, base)}`];
    lines.push(`  evidence: ${f.evidence}`, `  fix: ${f.fix}`);
    return lines.join('\n');
  });
}

function displayPath(file: string, base: string | undefined): string {
  if (base === undefined) return file;
  const rel = relative(base, file);
  return rel === '' ? '.' : rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel) ? file : rel;
}
