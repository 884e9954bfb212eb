import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createFilter } from '../../src/watch/filter.js';
import { indexPath, loadIndex, readSummary, saveIndex } from '../../src/watch/index-file.js';
import { Snapshotter, contentOf } from '../../src/watch/snapshot.js';
import { EARLY_START_MIN_FILES, WatchedTree } from '../../src/watch/tree.js';
import type { ChangeSet } from '../../src/core/events.js';
import { treeSource } from '../../src/watch/walk.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

afterAll(removeTempDirs);

/** States are saved only once their ctime is older than the racy window (200 ms) at reading time. */
const AGE_MS = 250;

function snapshotter(root: string): Snapshotter {
  return new Snapshotter(treeSource([root], createFilter({ roots: [root] }), () => undefined), root);
}

async function savedTree(files: Record<string, string>): Promise<{ root: string; file: string; codeId: string }> {
  const root = tempDir();
  writeTree(root, files);
  await sleep(AGE_MS);
  const s = snapshotter(root);
  const snap = await s.take();
  expect(s.lastReads).toBe(Object.keys(files).length);
  const file = indexPath(join(root, '.devsup'), [root]);
  await saveIndex(file, root, snap.files, (p) => s.rel(p));
  return { root, file, codeId: snap.codeId };
}

describe('saved file index', () => {
  it('lets the next start read no file that is unchanged', async () => {
    const { root, file, codeId } = await savedTree({ 'a.js': 'one', 'src/b.js': 'two', 'src/deep/c.js': 'three' });
    const s = snapshotter(root);
    s.seed((await loadIndex(file, root))!);
    const snap = await s.take();
    expect(s.lastReads).toBe(0);
    expect(snap.codeId).toBe(codeId);
    expect(snap.files.size).toBe(3);
  });

  it('keeps the state of a watched root that is a file, whose path below itself is empty', async () => {
    const dir = tempDir();
    writeTree(dir, { 'probe.sh': 'echo probe\n' });
    const root = join(dir, 'probe.sh');
    await sleep(AGE_MS);
    const s = new Snapshotter(treeSource([root], createFilter({ roots: [root] }), () => undefined), root);
    const snap = await s.take();
    const file = indexPath(join(dir, '.devsup'), [root]);
    await saveIndex(file, root, snap.files, (p) => s.rel(p));
    const damaged: string[] = [];
    const states = await loadIndex(file, root, { onDamaged: (why) => damaged.push(why) });
    expect(damaged).toEqual([]);
    expect(states?.size).toBe(1);
    expect(states?.codeId).toBe(snap.codeId);
  });

  it('reads a file edited while nothing watched, even with its size and mtime put back', async () => {
    const { root, file, codeId } = await savedTree({ 'a.js': 'one', 'b.js': 'two' });
    const target = join(root, 'a.js');
    const before = statSync(target);
    writeFileSync(target, 'ONE');
    utimesSync(target, before.atime, before.mtime);
    const s = snapshotter(root);
    s.seed((await loadIndex(file, root))!);
    const snap = await s.take();
    expect(s.lastReads).toBe(1);
    expect(snap.codeId).not.toBe(codeId);
    expect(snap.codeId).toBe((await snapshotter(root).take()).codeId);
  });

  it('leaves out states too recent to trust, so those files are read again', async () => {
    const root = tempDir();
    writeTree(root, { 'old.js': 'o' });
    await sleep(AGE_MS);
    writeFileSync(join(root, 'new.js'), 'n');
    const s = snapshotter(root);
    const snap = await s.take();
    const file = join(root, 'index');
    await saveIndex(file, root, snap.files, (p) => s.rel(p));
    const states = (await loadIndex(file, root))!;
    expect(states.size).toBe(1);
    expect(states.get('old.js')).toBe(snap.files.get(join(root, 'old.js')));
    expect(states.get('new.js')).toBeUndefined();
    // An index that misses a file cannot vouch for the tree's code id.
    expect(states.codeId).toBeUndefined();
    expect(readSummary(file, root)).toBeUndefined();
  });

  it('takes a state too recent when taken again once it is old enough, and then vouches for the code id', async () => {
    const root = tempDir();
    writeTree(root, { 'old.js': 'o', 'new.js': 'n' });
    const s = snapshotter(root);
    const snap = await s.take();
    expect(s.lastReads).toBe(2);
    await sleep(AGE_MS);
    const file = join(root, 'index');
    await saveIndex(file, root, snap.files, (p) => s.rel(p));
    expect(readSummary(file, root)).toEqual({ codeId: snap.codeId, files: 2 });
    expect(readSummary(file, join(root, 'elsewhere'))).toBeUndefined();
    const states = (await loadIndex(file, root))!;
    expect(states.codeId).toBe(snap.codeId);
    expect(contentOf(states.get('new.js')!)).toBe(contentOf(snap.files.get(join(root, 'new.js'))!));
  });

  it('ignores an index of another base and a missing one, silently', async () => {
    const { root, file } = await savedTree({ 'a.js': 'one', 'b.js': 'two' });
    const told: string[] = [];
    const onDamaged = (why: string) => told.push(why);
    expect(await loadIndex(file, join(root, 'elsewhere'), { onDamaged })).toBeUndefined();
    expect(await loadIndex(join(root, 'missing'), root, { onDamaged })).toBeUndefined();
    expect(told).toEqual([]);
  });

  it('discards a damaged index whole and says why: a changed code id, one changed character, a lost line', async () => {
    const { root, file, codeId } = await savedTree({ 'a.js': 'one', 'b.js': 'two', 'c.js': 'three' });
    const good = readFileSync(file, 'utf8');
    const told: string[] = [];
    const load = () => loadIndex(file, root, { onDamaged: (why) => told.push(why) });
    expect(await load()).toBeDefined();

    const other = codeId.startsWith('0') ? `1${codeId.slice(1)}` : `0${codeId.slice(1)}`;
    const cases = [
      good.replace(codeId, other),
      // One character of one entry's hash.
      good.replace(/^(b\.js\t)(.)/m, (_, p: string, c: string) => p + (c === 'A' ? 'B' : 'A')),
      good.split('\n').filter((l) => !l.startsWith('c.js\t')).join('\n'),
      good.slice(0, good.length - 5),
    ];
    for (const text of cases) {
      writeFileSync(file, text);
      expect(await load()).toBeUndefined();
      // The header alone still names a code id: a start may run on it, and the load must not agree.
      told.length = 0;
    }
    writeFileSync(file, good.replace(codeId, other));
    await load();
    expect(told).toEqual([expect.stringMatching(/checksum/)]);

    // A consistent checksum does not save an index whose code id is not the sum of its entries.
    const [head, ...rest] = good.split('\n');
    const fields = head!.split('\t');
    const body = rest.join('\n');
    const forged = (code: string) => {
      const digest = createHash('sha1').update(body).digest();
      const sum = createHash('sha1').update(`${fields[0]}\t${fields[1]}\t${code}\t${fields[3]}\n`).update(digest).digest('hex');
      return `${fields[0]}\t${fields[1]}\t${code}\t${fields[3]}\t${sum}\n${body}`;
    };
    writeFileSync(file, forged(codeId));
    expect(await load()).toBeDefined();
    told.length = 0;
    writeFileSync(file, forged(other));
    expect(await load()).toBeUndefined();
    expect(told).toEqual([expect.stringMatching(/not the sum of its entries/)]);

    // Sound, but not the index a start already runs on.
    writeFileSync(file, good);
    told.length = 0;
    expect(await loadIndex(file, root, { codeId: other, onDamaged: (why) => told.push(why) })).toBeUndefined();
    expect(told).toHaveLength(1);
  });

  it('finds states whether the walk keeps the saved order or not, non-ASCII names included', async () => {
    const { root, file } = await savedTree({ 'a.js': '1', 'b/ü.js': '2', 'b/c.js': '3', 'd.js': '4' });
    const saved = (await loadIndex(file, root))!;
    const inOrder = new Snapshotter(treeSource([root], createFilter({ roots: [root] }), () => undefined), root);
    const snap = await inOrder.take();
    const rels = [...snap.files.keys()].map((p) => inOrder.rel(p));
    for (const rel of [...rels].reverse()) expect(saved.get(rel), rel).toBe(snap.files.get(join(root, rel)));
    for (const rel of rels) expect(saved.get(rel), rel).toBe(snap.files.get(join(root, rel)));
    expect(saved.get('nowhere.js')).toBeUndefined();
  });

  it('removes a temporary file a killed writer left behind, once it is old', async () => {
    const { root, file } = await savedTree({ 'a.js': '1' });
    const abandoned = `${file}.999999.tmp`;
    const recent = `${file}.999998.tmp`;
    writeFileSync(abandoned, 'half');
    writeFileSync(recent, 'half');
    const old = new Date(Date.now() - 120_000);
    utimesSync(abandoned, old, old);
    const s = snapshotter(root);
    const snap = await s.take();
    await saveIndex(file, root, snap.files, (p) => s.rel(p));
    expect(existsSync(abandoned)).toBe(false);
    expect(existsSync(recent)).toBe(true);
    expect((await loadIndex(file, root))!.get('a.js')).toBe(snap.files.get(join(root, 'a.js')));
  });

  it('keeps the content part of every state it saves', async () => {
    const root = tempDir();
    writeTree(root, { 'x.js': 'x' });
    await sleep(AGE_MS);
    const s = snapshotter(root);
    const snap = await s.take();
    const file = join(root, 'index');
    await saveIndex(file, root, snap.files, (p) => s.rel(p));
    const saved = (await loadIndex(file, root))!.get('x.js')!;
    expect(contentOf(saved)).toBe(contentOf(snap.files.get(join(root, 'x.js'))!));
  });

  it('gives the next tree a provisional snapshot that its first look confirms or refutes', async () => {
    const root = tempDir();
    const files: Record<string, string> = {};
    for (let i = 0; i < EARLY_START_MIN_FILES; i++) files[`d${i % 20}/f${i}.js`] = String(i);
    writeTree(root, files);
    await sleep(AGE_MS);
    const file = indexPath(join(root, '.devsup'), [root]);
    const changes: ChangeSet[] = [];
    const open = () =>
      new WatchedTree({ roots: [root], ignore: ['.devsup'], settleMs: 50, indexFile: file, onWarning: () => undefined, onChange: (_, c) => changes.push(c) });

    // Without an index the big tree still starts early, before any file is read; nothing changed since.
    const first = open();
    expect(first.early()).toMatchObject({ seq: 0, codeId: '', provisional: true, unknown: true });
    const snap = await first.start();
    await first.close();
    expect(changes).toEqual([]);
    expect(readSummary(file, root)).toEqual({ codeId: snap.codeId, files: EARLY_START_MIN_FILES });

    const same = open();
    try {
      const prov = same.early()!;
      expect(prov).toMatchObject({ seq: 0, codeId: snap.codeId, provisional: true });
      expect(same.latest).toBe(prov);
      const real = await same.start();
      expect(real.codeId).toBe(snap.codeId);
      expect(await same.verified()).toBe(real);
      expect(changes).toEqual([]);
    } finally {
      await same.close();
    }

    writeFileSync(join(root, 'd1/f1.js'), 'edited');
    rmSync(join(root, 'd2/f2.js'));
    writeFileSync(join(root, 'd3/added.js'), 'new');
    const changed = open();
    try {
      const prov = changed.early()!;
      const real = await changed.start();
      expect(real.codeId).not.toBe(prov.codeId);
      expect(changes).toEqual([{ added: [join(root, 'd3/added.js')], modified: [join(root, 'd1/f1.js')], removed: [join(root, 'd2/f2.js')] }]);
    } finally {
      await changed.close();
    }
  });

  it('is not offered for a tree smaller than an early start is worth', async () => {
    const { root, file } = await savedTree({ 'a.js': '1', 'b.js': '2' });
    expect(readSummary(file, root)).toMatchObject({ files: 2 });
    const tree = new WatchedTree({ roots: [root], ignore: [], settleMs: 50, indexFile: file, onWarning: () => undefined, onChange: () => undefined });
    expect(tree.early()).toBeUndefined();
    await tree.close();
  });

  it('is saved again after an edit, and on close when the edit is newer than the last save', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': 'one', 'b.js': 'two' });
    await sleep(AGE_MS);
    const file = indexPath(join(root, '.devsup'), [root]);
    const seen: ChangeSet[] = [];
    const tree = new WatchedTree({ roots: [root], ignore: ['.devsup'], settleMs: 50, indexFile: file, onWarning: () => undefined, onChange: (_, c) => seen.push(c) });
    try {
      await tree.start();
      writeFileSync(join(root, 'a.js'), 'ONE');
      await waitFor(() => seen.length > 0 || undefined, 'the edit', 5000);
      await sleep(AGE_MS);
    } finally {
      await tree.close();
    }
    const fresh = await snapshotter(root).take();
    expect(readSummary(file, root)).toEqual({ codeId: fresh.codeId, files: 2 });
  });

  it('is written by a watched tree after its first snapshot', async () => {
    const root = tempDir();
    writeTree(root, { 'a.js': 'one', 'lib/b.js': 'two' });
    await sleep(AGE_MS);
    const file = indexPath(join(root, '.devsup'), [root]);
    const tree = new WatchedTree({ roots: [root], ignore: [], settleMs: 50, indexFile: file, onWarning: () => undefined, onChange: () => undefined });
    try {
      const snap = await tree.start();
      await waitFor(() => existsSync(file), 'the saved index', 5000);
      const states = (await loadIndex(file, root))!;
      expect(states.size).toBe(2);
      expect(states.get('a.js')).toBe(snap.files.get(join(root, 'a.js')));
      expect(states.get('lib/b.js')).toBe(snap.files.get(join(root, 'lib/b.js')));
    } finally {
      await tree.close();
    }
  });
});
