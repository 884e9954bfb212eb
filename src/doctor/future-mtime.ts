import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { shq } from './shell.js';
import { formatDuration, isoFromNs, nsFromMs } from './time.js';
import type { Finding } from './types.js';

const SOURCE_EXTENSIONS = new Set(['.py', '.js', '.ts', '.mjs', '.cjs', '.tsx', '.jsx']);
const TOLERANCE_NS = 2_000_000_000n;

export async function checkFutureMtimes(files: readonly string[]): Promise<Finding[]> {
  const sources = files.filter((f) => SOURCE_EXTENSIONS.has(extname(f)));
  const stats = await Promise.all(
    sources.map((file) =>
      stat(file, { bigint: true }).then(
        (st) => ({ file, mtimeNs: st.mtimeNs }),
        () => undefined, // gone since the walk
      ),
    ),
  );
  // Taken after every stat, so a file saved during the walk is not mistaken for one from the future.
  const now = nsFromMs(Date.now());
  const findings: Finding[] = [];
  for (const s of stats) {
    if (s && s.mtimeNs - now > TOLERANCE_NS) findings.push(futureMtime(s.file, s.mtimeNs, now));
  }
  return findings;
}

function futureMtime(file: string, mtimeNs: bigint, now: bigint): Finding {
  return {
    check: 'future-mtime',
    severity: 'hazard',
    file,
    evidence: `modified ${isoFromNs(mtimeNs)}, ${formatDuration(mtimeNs - now)} in the future (clock skew): until then, tools that compare mtimes (make, tsc --build, bundler caches, polling watchers) can take it as newer than anything built from it, or miss edits that get an earlier mtime`,
    fix: `touch ${shq(file)} to give it the current time, then fix the clock that wrote it (see clock-skew)`,
  };
}
