import { readdirSync, symlinkSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkClockSkew } from '../../src/doctor/clock-skew.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

describe('checkClockSkew', () => {
  it('finds no skew on a local temp dir and leaves nothing behind', async () => {
    const dir = tempDir();
    writeTree(dir, { 'keep.txt': 'x' });
    expect(await checkClockSkew([dir])).toEqual([]);
    expect(readdirSync(dir)).toEqual(['keep.txt']);
  });

  it("probes inside the root's .devsup, which devsup's watchers ignore, so a running supervisor restarts nothing", async () => {
    const dir = tempDir();
    writeTree(dir, { 'app.py': 'x\n', '.devsup/default.lock': '{}\n' });
    const seen: string[] = [];
    const watcher = watch(dir, (_type, name) => seen.push(String(name)));
    try {
      expect(await checkClockSkew([dir])).toEqual([]);
      // Events arrive in order: once the marker's is in, any the probe caused in the root are too.
      writeFileSync(join(dir, 'marker'), '');
      await waitFor(() => seen.includes('marker'), 'the marker event');
      expect(seen.filter((n) => n !== 'marker')).toEqual([]);
      expect(readdirSync(join(dir, '.devsup'))).toEqual(['default.lock']);
    } finally {
      watcher.close();
    }
  });

  it('reports a filesystem clock behind or ahead of ours', async () => {
    const dir = tempDir();
    const [behind] = await checkClockSkew([dir], { now: () => Date.now() + 5000 });
    expect(behind).toMatchObject({ check: 'clock-skew', severity: 'hazard', file: dir });
    expect(behind!.evidence).toMatch(/an mtime \d\.\d\d s behind this machine's clock/);
    const [ahead] = await checkClockSkew([dir], { now: () => Date.now() - 5000 });
    expect(ahead!.evidence).toMatch(/an mtime \d\.\d\d s ahead of this machine's clock/);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('removes the probe even when the measurement fails after writing it', async () => {
    const dir = tempDir();
    let calls = 0;
    const now = () => {
      if (++calls === 2) throw new Error('clock gone');
      return Date.now();
    };
    const [f] = await checkClockSkew([dir], { now });
    expect(f).toMatchObject({ check: 'clock-skew', severity: 'info', evidence: expect.stringMatching(/not measured: .*clock gone/) });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('writes no probe through a .devsup that is a link, and says it could not measure', async () => {
    const dir = tempDir();
    const outside = tempDir('devsup-outside-');
    symlinkSync(outside, join(dir, '.devsup'));
    const seen: string[] = [];
    const watcher = watch(outside, (_type, name) => seen.push(String(name)));
    try {
      const [finding] = await checkClockSkew([dir]);
      expect(finding).toMatchObject({ check: 'clock-skew', severity: 'info' });
      expect(finding?.evidence).toContain('is a symlink');
      // Events arrive in order: once the marker's is in, any a probe caused outside are too.
      writeFileSync(join(outside, 'marker'), '');
      await waitFor(() => seen.includes('marker'), 'the marker event');
      expect(seen.filter((n) => n !== 'marker')).toEqual([]);
    } finally {
      watcher.close();
    }
  });

  it('says it could not measure a root it cannot write to', async () => {
    const missing = join(tempDir(), 'missing');
    const findings = await checkClockSkew([missing]);
    expect(findings).toEqual([expect.objectContaining({ check: 'clock-skew', severity: 'info', file: missing })]);
    expect(findings[0]!.evidence).toMatch(/ENOENT/);
  });
});
