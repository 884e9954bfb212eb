import { readFile, realpath } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { Finding } from './types.js';

export interface Mount {
  device: string;
  mountPoint: string;
  fsType: string;
  options: string[];
}

/** Returns the text of /proc/mounts, or undefined where there is none (not Linux). */
export type MountsReader = () => Promise<string | undefined>;

export const readProcMounts: MountsReader = async () => {
  try {
    return await readFile('/proc/mounts', 'utf8');
  } catch {
    return undefined;
  }
};

// The kernel escapes space, tab, newline and backslash in /proc/mounts as 3-digit octal.
function decodeOctal(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMounts(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split('\n')) {
    const [device, mountPoint, fsType, options] = line.trim().split(/\s+/);
    if (device === undefined || mountPoint === undefined || fsType === undefined) continue;
    mounts.push({
      device: decodeOctal(device),
      mountPoint: decodeOctal(mountPoint),
      fsType,
      options: options ? options.split(',') : [],
    });
  }
  return mounts;
}

/**
 * The mount holding `path`, which must already be resolved (realpath): the longest mount point
 * that is `path` or a directory above it. When several mounts share that point, the last one
 * listed is the one on top, the one actually visible.
 */
export function mountFor(path: string, mounts: readonly Mount[]): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const inside = m.mountPoint === sep || path === m.mountPoint || path.startsWith(m.mountPoint + sep);
    if (inside && (!best || m.mountPoint.length >= best.mountPoint.length)) best = m;
  }
  return best;
}

const UNRELIABLE = new Map<string, string>([
  ['9p', 'a 9p share (WSL2 /mnt/c, VM shared folders)'],
  ['drvfs', 'a WSL drvfs mount of a Windows drive'],
  ['nfs', 'an NFS share'],
  ['nfs4', 'an NFS share'],
  ['cifs', 'an SMB/CIFS share'],
  ['smb3', 'an SMB share'],
  ['smbfs', 'an SMB share'],
  ['vboxsf', 'a VirtualBox shared folder'],
]);

function describeUnreliable(mount: Mount): string | undefined {
  if (mount.fsType.startsWith('fuse.')) return `a FUSE filesystem (${mount.fsType.slice(5)})`;
  return UNRELIABLE.get(mount.fsType);
}

/** Filesystems where inotify misses changes made on the other side (the host, the server). */
export function isUnreliableFs(mount: Mount): boolean {
  return describeUnreliable(mount) !== undefined;
}

async function resolvedMount(root: string, mounts: readonly Mount[]): Promise<Mount | undefined> {
  const real = await realpath(root).catch(() => resolve(root));
  return mountFor(real, mounts);
}

export async function shouldPoll(root: string, readMounts: MountsReader = readProcMounts): Promise<boolean> {
  const text = await readMounts();
  if (text === undefined) return false;
  const mount = await resolvedMount(root, parseMounts(text));
  return mount !== undefined && isUnreliableFs(mount);
}

export async function checkFilesystems(
  roots: readonly string[],
  readMounts: MountsReader = readProcMounts,
): Promise<Finding[]> {
  const text = await readMounts();
  if (text === undefined) return [];
  const mounts = parseMounts(text);
  const findings: Finding[] = [];
  for (const root of roots) {
    const mount = await resolvedMount(root, mounts);
    const what = mount && describeUnreliable(mount);
    if (!mount || !what) continue;
    findings.push({
      check: 'unreliable-fs',
      severity: 'hazard',
      file: root,
      evidence: `${root} is on ${what}: ${mount.fsType} from ${mount.device} mounted at ${mount.mountPoint}; change events are unreliable there (edits made from the other side of the mount raise none), so a watcher relying on them keeps old code running`,
      fix: `devsup switches to polling there automatically (--poll forces it anywhere); other watchers need their own polling option (e.g. CHOKIDAR_USEPOLLING=1), or move the project onto a local filesystem (in WSL2, under ~ rather than /mnt)`,
    });
  }
  return findings;
}
