import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Finding } from './types.js';
import { formatDuration, nsFromMs } from './time.js';

export interface ClockSkewOptions {
  /** The local clock, in ms; injectable so a skewed clock can be simulated. */
  now?: () => number;
}

const TOLERANCE_NS = 1_000_000_000n;

/**
 * Writes a probe file in each root and compares the mtime the filesystem gave it with the local
 * clock read just before and after. A network share or VM mount stamps files with the server's
 * clock, and it is that clock, not ours, that build tools and watchers compare against.
 */
export async function checkClockSkew(roots: readonly string[], opts: ClockSkewOptions = {}): Promise<Finding[]> {
  const now = opts.now ?? Date.now;
  const results = await Promise.all(roots.map((root) => probe(root, now)));
  return results.filter((f): f is Finding => f !== undefined);
}

/**
 * The probe is written in the root's `.devsup/`, which every devsup watcher ignores at any depth:
 * a probe in the tree itself would restart the processes a running supervisor watches there. The
 * directory is made for the probe when missing, and removed again.
 */
async function probe(root: string, now: () => number): Promise<Finding | undefined> {
  const dir = join(root, '.devsup');
  const made = await mkdir(dir, { mode: 0o700 }).then(
    () => true,
    () => false, // there already, or not writable (then the write below says so)
  );
  // A `.devsup` that is a link (to anywhere) is not written through, not even for a moment.
  if ((await lstat(dir).catch(() => undefined))?.isSymbolicLink()) {
    return {
      check: 'clock-skew',
      severity: 'info',
      file: root,
      evidence: `not measured: ${dir} is a symlink, and devsup does not write through links there`,
      fix: `remove the link ${dir}; devsup makes its own directory`,
    };
  }
  const file = join(dir, `clock-probe-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    const before = nsFromMs(now());
    await writeFile(file, '', { flag: 'wx' });
    const after = nsFromMs(now());
    const { mtimeNs } = await stat(file, { bigint: true });
    const ahead = mtimeNs - after;
    const behind = before - mtimeNs;
    if (ahead <= TOLERANCE_NS && behind <= TOLERANCE_NS) return undefined;
    const direction = ahead > 0n ? `${formatDuration(ahead)} ahead of` : `${formatDuration(behind)} behind`;
    return {
      check: 'clock-skew',
      severity: 'hazard',
      file: root,
      evidence: `a file written here got an mtime ${direction} this machine's clock: the filesystem stamps files with another clock, so mtime comparisons between new files and build outputs (and "modified in the future" checks) are off by that much`,
      fix: `synchronise the clocks of this machine and whatever serves ${root} (NTP/chrony on both; in WSL2 or a VM, sudo hwclock -s or restart it after the host slept)`,
    };
  } catch (err) {
    return {
      check: 'clock-skew',
      severity: 'info',
      file: root,
      evidence: `not measured: could not write a probe file here (${errorMessage(err)})`,
      fix: `run devsup doctor as a user who can write to ${root}`,
    };
  } finally {
    // A probe that cannot be removed is not worth failing the whole doctor run over.
    await rm(file, { force: true }).catch(() => undefined);
    if (made) await rmdir(dir).catch(() => undefined);
  }
}
