import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFilter } from '../../src/watch/filter.js';
import { ChangeLog } from '../../src/watch/change-log.js';
import { Snapshotter, contentOf, diffSnapshots, type Snapshot } from '../../src/watch/snapshot.js';
import { treeSource } from '../../src/watch/walk.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

/** `whole: false` makes the snapshotter behave as on a big tree, whatever the size of this one. */
function snapshotterFor(roots: string[], opts: { ext?: string[]; whole?: boolean } = {}): Snapshotter {
  const filter = createFilter({ roots, ext: opts.ext, gitignore: true });
  return new Snapshotter({ ...treeSource(roots, filter, () => undefined), wholeIsCheap: opts.whole ?? false }, roots[0]!);
}

/** What a fresh snapshotter sees: the incremental one must agree with it. */
async function fresh(roots: string[]): Promise<Snapshot> {
  return snapshotterFor(roots, { whole: true }).take();
}

describe('Snapshotter.update', () => {
  it('looks only at the paths it is given and at their directories', async () => {
    const root = tempDir();
    writeTree(root, { 'a/a.js': '1', 'a/late.js': 'l', 'b/b.js': '2' });
    const s = snapshotterFor([root]);
    const s1 = await s.take();
    writeFileSync(join(root, 'a/a.js'), 'one');
    writeFileSync(join(root, 'a/late.js'), 'late');
    writeFileSync(join(root, 'b/b.js'), 'two');
    const s2 = await s.update([join(root, 'a/a.js')]);
    // late.js sits beside a.js: its event may still be on the way, so it is looked at too.
    expect(diffSnapshots(s1, s2)).toEqual({ added: [], modified: [join(root, 'a/a.js'), join(root, 'a/late.js')], removed: [] });
    // b/b.js was not named and is elsewhere: only a full look finds it.
    const s3 = await s.take();
    expect(diffSnapshots(s2, s3).modified).toEqual([join(root, 'b/b.js')]);
    expect(s3.codeId).toBe((await fresh([root])).codeId);
  });

  it('looks at the whole of a small tree, so writes whose events are late are not split off', async () => {
    const root = tempDir();
    writeTree(root, { 'a/a.js': '1', 'b/b.js': '2' });
    const s = snapshotterFor([root], { whole: true });
    const s1 = await s.take();
    writeFileSync(join(root, 'a/a.js'), 'one');
    writeFileSync(join(root, 'b/b.js'), 'two');
    const s2 = await s.update([join(root, 'a/a.js')]);
    expect(diffSnapshots(s1, s2).modified).toEqual([join(root, 'a/a.js'), join(root, 'b/b.js')]);
  });

  it('lists a named directory again: new files are added, missing ones removed', async () => {
    const root = tempDir();
    writeTree(root, { 'lib/a.js': '1', 'lib/deep/b.js': '2', 'top.js': 't' });
    const s = snapshotterFor([root]);
    const s1 = await s.take();
    rmSync(join(root, 'lib/deep'), { recursive: true });
    writeTree(root, { 'lib/new/c.js': '3' });
    const s2 = await s.update([join(root, 'lib')]);
    expect(diffSnapshots(s1, s2)).toEqual({ added: [join(root, 'lib/new/c.js')], modified: [], removed: [join(root, 'lib/deep/b.js')] });
    expect(s2.codeId).toBe((await fresh([root])).codeId);
  });

  it('drops everything below a directory that is gone, and finds it again when it returns', async () => {
    const root = tempDir();
    const src = join(root, 'src');
    writeTree(src, { 'x.js': '1', 'y/z.js': '2' });
    const s = snapshotterFor([src]);
    const s1 = await s.take();
    rmSync(src, { recursive: true });
    const s2 = await s.update([src]);
    expect(s2.files.size).toBe(0);
    expect(diffSnapshots(s1, s2).removed).toEqual([join(src, 'x.js'), join(src, 'y/z.js')]);
    writeTree(src, { 'x.js': '1', 'y/z.js': '2' });
    const s3 = await s.update([src]);
    expect(s3.codeId).toBe(s1.codeId);
    expect(diffSnapshots(s1, s3)).toEqual({ added: [], modified: [], removed: [] });
  });

  it('keeps files of a nested root that the outer root leaves out', async () => {
    const root = tempDir();
    const pkg = join(root, 'node_modules', 'pkg');
    writeTree(root, { 'a.js': '1', 'node_modules/pkg/index.js': 'p' });
    const s = snapshotterFor([root, pkg]);
    const s1 = await s.take();
    expect([...s1.files.keys()]).toContain(join(pkg, 'index.js'));
    const s2 = await s.update([root]);
    expect([...s2.files.keys()].sort()).toEqual([join(root, 'a.js'), join(pkg, 'index.js')]);
  });

  it('ignores a named file that does not count, and drops one that stopped being a file', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': '1', 'notes.txt': 'n', 'b.js': '2' });
    const s = snapshotterFor([root], { ext: ['js'] });
    const s1 = await s.take();
    writeFileSync(join(root, 'notes.txt'), 'changed');
    rmSync(join(root, 'b.js'));
    mkdirSync(join(root, 'b.js'));
    const s2 = await s.update([join(root, 'notes.txt'), join(root, 'b.js')]);
    expect(diffSnapshots(s1, s2)).toEqual({ added: [], modified: [], removed: [join(root, 'b.js')] });
  });

  it('shares the previous snapshot when nothing changed, and keeps old snapshots as they were', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': '1' });
    // A file changed within the last 200 ms is read again every time: let it age first.
    await new Promise((r) => setTimeout(r, 250));
    const s = snapshotterFor([root]);
    const s1 = await s.take();
    const s2 = await s.update([join(root, 'a.js')]);
    expect(s2.files).toBe(s1.files);
    expect(s2.seq).toBe(s1.seq + 1);
    writeFileSync(join(root, 'a.js'), '2');
    const s3 = await s.update([join(root, 'a.js')]);
    expect(s3.files).not.toBe(s1.files);
    // The old snapshot still describes the old content: a size of 1 in its stat identity.
    expect(s1.files.get(join(root, 'a.js'))).toMatch(/^.{27}[tu]1:/);
    expect(s3.files.get(join(root, 'a.js'))).toMatch(/^.{27}[tu]1:/);
    expect(contentOf(s1.files.get(join(root, 'a.js'))!)).not.toBe(contentOf(s3.files.get(join(root, 'a.js'))!));
    expect(s1.codeId).not.toBe(s3.codeId);
  });

  it('compares snapshots without a shared history by their whole maps', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': '1', 'b.js': '2' });
    const s1 = await snapshotterFor([root]).take();
    writeFileSync(join(root, 'b.js'), 'two');
    writeFileSync(join(root, 'c.js'), '3');
    const other = await snapshotterFor([root]).take();
    expect(diffSnapshots(s1, other)).toEqual({ added: [join(root, 'c.js')], modified: [join(root, 'b.js')], removed: [] });
  });
});

describe('ChangeLog', () => {
  it('answers from what it remembers, and says so when it has forgotten', () => {
    const log = new ChangeLog(5);
    log.record(1, ['a', 'b']);
    log.record(2, []);
    log.record(3, ['c']);
    expect([...log.between(0, 3)!].sort()).toEqual(['a', 'b', 'c']);
    expect([...log.between(1, 3)!]).toEqual(['c']);
    expect([...log.between(3, 3)!]).toEqual([]);
    log.record(4, ['d', 'e', 'f']);
    // Six paths: the oldest entry (seq 1) is forgotten.
    expect(log.between(0, 4)).toBeUndefined();
    expect([...log.between(1, 4)!].sort()).toEqual(['c', 'd', 'e', 'f']);
  });
});
