import { realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkFilesystems, isUnreliableFs, mountFor, parseMounts, shouldPoll, type Mount } from '../../src/doctor/filesystems.js';
import { tempDir } from '../helpers/tmp.js';

const SAMPLE = [
  '/dev/vda / ext4 rw,relatime,discard 0 0',
  'proc /proc proc rw,relatime 0 0',
  'C:\\134 /mnt/c 9p rw,dirsync,aname=drvfs;path=C:\\134;uid=1000 0 0',
  'server:/export /mnt/my\\040share nfs4 rw,vers=4.2 0 0',
  '//host/share /mnt/cd cifs rw 0 0',
  'tmpfs /mnt/c/cache tmpfs rw 0 0',
  '',
  'me@host: /home/me/remote fuse.sshfs rw,nosuid 0 0',
].join('\n');

const mount = (fsType: string, mountPoint = '/x'): Mount => ({ device: 'dev', mountPoint, fsType, options: [] });

/** /proc/mounts text as the kernel escapes it. */
const escapeField = (s: string) => s.replace(/[ \t\n\\]/g, (c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`);

describe('parseMounts', () => {
  it('splits fields, decodes octal escapes and skips blank lines', () => {
    const mounts = parseMounts(SAMPLE);
    expect(mounts).toHaveLength(7);
    expect(mounts[2]).toEqual({
      device: 'C:\\',
      mountPoint: '/mnt/c',
      fsType: '9p',
      options: ['rw', 'dirsync', 'aname=drvfs;path=C:\\134;uid=1000'],
    });
    expect(mounts[3]).toMatchObject({ device: 'server:/export', mountPoint: '/mnt/my share', fsType: 'nfs4' });
    expect(parseMounts('a /b\\011c\\012d x rw 0 0')[0]!.mountPoint).toBe('/b\tc\nd');
  });
});

describe('mountFor', () => {
  const mounts = parseMounts(SAMPLE);
  const fsOf = (p: string) => mountFor(p, mounts)?.fsType;

  it('takes the longest mount point on a path-component boundary', () => {
    expect(fsOf('/mnt/c/Users/me/project')).toBe('9p');
    expect(fsOf('/mnt/c')).toBe('9p');
    expect(fsOf('/mnt/cd/x')).toBe('cifs');
    expect(fsOf('/mnt/c/cache/x')).toBe('tmpfs');
    expect(fsOf('/mnt/my share/src')).toBe('nfs4');
    expect(fsOf('/mnt/my')).toBe('ext4');
    expect(fsOf('/home/me/remote/a')).toBe('fuse.sshfs');
    expect(fsOf('/')).toBe('ext4');
  });

  it('picks the last of mounts stacked on one point, the visible one', () => {
    const stacked = parseMounts('/dev/vda / ext4 rw 0 0\nhost /w 9p rw 0 0\n/dev/vdb /w ext4 rw 0 0');
    expect(mountFor('/w/a', stacked)?.device).toBe('/dev/vdb');
  });

  it('finds nothing without a root mount covering the path', () => {
    expect(mountFor('/home/x', parseMounts('host /w 9p rw 0 0'))).toBeUndefined();
  });
});

describe('isUnreliableFs', () => {
  it.each(['9p', 'drvfs', 'nfs', 'nfs4', 'cifs', 'smb3', 'smbfs', 'fuse.sshfs', 'fuse.gcsfuse', 'vboxsf'])('%s is unreliable', (t) => {
    expect(isUnreliableFs(mount(t))).toBe(true);
  });
  it.each(['ext4', 'xfs', 'btrfs', 'tmpfs', 'overlay', 'fuse', 'fuseblk', 'apfs'])('%s is not', (t) => {
    expect(isUnreliableFs(mount(t))).toBe(false);
  });
});

describe('checkFilesystems and shouldPoll', () => {
  it('report a root on a 9p mount, reached through a symlink, and say devsup polls there', async () => {
    const dir = tempDir();
    const real = realpathSync(dir);
    const link = join(tempDir(), 'link');
    symlinkSync(dir, link);
    const mounts = async () => `/dev/vda / ext4 rw 0 0\nC:\\134 ${escapeField(real)} 9p rw 0 0\n`;
    const findings = await checkFilesystems([link], mounts);
    expect(findings).toEqual([expect.objectContaining({ check: 'unreliable-fs', severity: 'hazard', file: link })]);
    expect(findings[0]!.evidence).toContain(`9p from C:\\ mounted at ${real}`);
    expect(findings[0]!.fix).toMatch(/polling there automatically \(--poll forces it/);
    expect(await shouldPoll(link, mounts)).toBe(true);
  });

  it('stay quiet on a local filesystem, and where there is no /proc/mounts', async () => {
    const dir = tempDir();
    const local = async () => '/dev/vda / ext4 rw 0 0\n';
    expect(await checkFilesystems([dir], local)).toEqual([]);
    expect(await shouldPoll(dir, local)).toBe(false);
    const none = async () => undefined;
    expect(await checkFilesystems([dir], none)).toEqual([]);
    expect(await shouldPoll(dir, none)).toBe(false);
  });
});
