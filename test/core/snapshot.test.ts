import { readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Snapshotter, diffSnapshots, isEmptyChange } from '../../src/watch/snapshot.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

function snapshotterFor(root: string): Snapshotter {
  return new Snapshotter(async () => readdirSync(root).map((f) => join(root, f)), root);
}

describe('Snapshotter', () => {
  it('sees content, not timestamps', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': 'one', 'b.js': 'two' });
    const s = snapshotterFor(root);
    const s1 = await s.take();
    // touch, and a rewrite with identical bytes: no change
    const f = join(root, 'a.js');
    utimesSync(f, new Date(), new Date(Date.now() + 5000));
    writeFileSync(join(root, 'b.js'), 'two');
    const s2 = await s.take();
    expect(isEmptyChange(diffSnapshots(s1, s2))).toBe(true);
    expect(s2.codeId).toBe(s1.codeId);
    expect(s2.seq).toBe(s1.seq + 1);
    // same size, mtime put back: still a change
    const before = statSync(f);
    writeFileSync(f, 'uno');
    utimesSync(f, before.atime, before.mtime);
    const s3 = await s.take();
    expect(diffSnapshots(s2, s3)).toEqual({ added: [], modified: [f], removed: [] });
    expect(s3.codeId).not.toBe(s2.codeId);
  });

  it('reports added and removed files', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': '1' });
    const s = snapshotterFor(root);
    const s1 = await s.take();
    writeFileSync(join(root, 'c.js'), '3');
    rmSync(join(root, 'a.js'));
    const s2 = await s.take();
    expect(diffSnapshots(s1, s2)).toEqual({ added: [join(root, 'c.js')], modified: [], removed: [join(root, 'a.js')] });
  });

  it('re-hashes a file written in the same clock tick as the previous read', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': 'one' });
    const s = snapshotterFor(root);
    const f = join(root, 'a.js');
    for (let i = 0; i < 20; i++) {
      const a = await s.take();
      const ino = statSync(f).ino;
      writeFileSync(f, i % 2 === 0 ? 'two' : 'one');
      // Same size, same inode; mtime and ctime may well be the same coarse tick.
      expect(statSync(f).ino).toBe(ino);
      const b = await s.take();
      expect(diffSnapshots(a, b).modified, `round ${i}`).toEqual([f]);
    }
  });

  it('code ids do not depend on where the tree lives', async () => {
    const r1 = tempDir();
    const r2 = tempDir();
    writeTree(r1, { 'a.js': 'x' });
    writeTree(r2, { 'a.js': 'x' });
    expect((await snapshotterFor(r1).take()).codeId).toBe((await snapshotterFor(r2).take()).codeId);
  });
});
