import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkWatchLimit, readMaxUserWatches } from '../../src/doctor/watch-limit.js';

const limit = (n: number | undefined) => async () => n;

describe('checkWatchLimit', () => {
  it('says nothing up to half the limit, notes more, and calls it a hazard beyond the limit', async () => {
    expect(await checkWatchLimit(500, limit(1000))).toEqual([]);
    expect(await checkWatchLimit(501, limit(1000))).toEqual([expect.objectContaining({ check: 'watch-limit', severity: 'info' })]);
    expect(await checkWatchLimit(1000, limit(1000))).toEqual([expect.objectContaining({ severity: 'info' })]);
    const [over] = await checkWatchLimit(1001, limit(1000));
    expect(over).toMatchObject({ check: 'watch-limit', severity: 'hazard' });
    expect(over!.evidence).toMatch(/^1001 directories .* fs\.inotify\.max_user_watches=1000 \(100\.1%\)/);
    expect(over!.fix).toContain('sudo sysctl fs.inotify.max_user_watches=524288');
    expect(over!.fix).toMatch(/fs\.inotify\.max_user_watches=524288 \| sudo tee \/etc\/sysctl\.d\/.*\.conf && sudo sysctl --system/);
  });

  it('suggests a limit with room for twice the directories when 524288 is not enough', async () => {
    const [f] = await checkWatchLimit(400_000, limit(524_288));
    expect(f!.fix).toContain('max_user_watches=1048576');
  });

  it('says nothing where there is no inotify', async () => {
    expect(await checkWatchLimit(1_000_000, limit(undefined))).toEqual([]);
  });

  it('reads the real limit on Linux', async () => {
    const value = await readMaxUserWatches();
    if (existsSync('/proc/sys/fs/inotify/max_user_watches')) expect(value).toBeGreaterThan(0);
    else expect(value).toBeUndefined();
  });
});
