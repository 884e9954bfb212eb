import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { ChangeSet } from '../../src/core/events.js';
import { changedSince } from '../../src/watch/file-state.js';
import { indexPath, readSummary } from '../../src/watch/index-file.js';
import type { Snapshot } from '../../src/watch/snapshot.js';
import { EARLY_START_MIN_FILES, TreeClosedError, WatchedTree } from '../../src/watch/tree.js';
import { verifyProvisional } from '../../src/worker/early-start.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';

afterAll(removeTempDirs);

/**
 * Older than the margin a ctime is given for the coarse clock (nothing written here counts as after
 * the start), and than the racy window (so every state is saved).
 */
const AGE_MS = 250;

let trees: WatchedTree[] = [];
afterEach(async () => {
  for (const t of trees) await t.close();
  trees = [];
});

async function bigTree(extra: Record<string, string> = {}): Promise<string> {
  const root = tempDir();
  const files: Record<string, string> = { 'app.js': 'app', ...extra };
  for (let i = 0; i < EARLY_START_MIN_FILES + 50; i++) files[`src/d${i % 25}/f${i}.js`] = `export const n = ${i};\n`;
  writeTree(root, files);
  await sleep(AGE_MS);
  return root;
}

function open(root: string, opts: { beforeFirstLook?: () => Promise<void> } = {}): { tree: WatchedTree; changes: ChangeSet[] } {
  const changes: ChangeSet[] = [];
  const tree = new WatchedTree({
    roots: [root],
    ignore: [],
    settleMs: 50,
    indexFile: indexPath(join(root, '.devsup'), [root]),
    onWarning: () => undefined,
    onChange: (_, c) => changes.push(c),
    ...opts,
  });
  trees.push(tree);
  return { tree, changes };
}

async function verdict(prov: Snapshot, tree: WatchedTree): Promise<string> {
  return (await verifyProvisional(prov, () => tree.verified())).type;
}

describe('a big tree without a saved index', () => {
  it('offers a start before any file is read, confirmed with the real code id when nothing changed', async () => {
    const root = await bigTree();
    const { tree, changes } = open(root);
    const prov = tree.early()!;
    expect(prov).toMatchObject({ seq: 0, codeId: '', provisional: true, unknown: true });
    expect(tree.latest).toBe(prov);
    // devsup makes its state directory in the root of a fresh checkout right about now.
    mkdirSync(join(root, '.devsup'));
    const real = await tree.start();
    expect(real.codeId).toMatch(/^[0-9a-f]{10}$/);
    expect(changes).toEqual([]);
    const input = await verifyProvisional(prov, () => tree.verified());
    expect(input).toMatchObject({ type: 'confirmed', real });
  });

  it('refutes the start when a file was written after it, before the look', async () => {
    const root = await bigTree();
    const { tree, changes } = open(root);
    const prov = tree.early()!;
    writeFileSync(join(root, 'src/d3/f3.js'), 'export const n = -3;\n');
    await tree.start();
    expect(changes).toEqual([{ added: [], modified: [join(root, 'src/d3/f3.js')], removed: [] }]);
    expect(await verdict(prov, tree)).toBe('refuted');
  });

  it('refutes the start when a file is written while the look is under way, watching already', async () => {
    const root = await bigTree();
    const file = join(root, 'src/d7/f7.js');
    const { tree, changes } = open(root, { beforeFirstLook: async () => writeFileSync(file, 'export const n = -7;\n') });
    const prov = tree.early()!;
    await tree.start();
    expect(changes.flatMap((c) => c.modified)).toContain(file);
    expect(await verdict(prov, tree)).toBe('refuted');
  });

  it('refutes the start when a file the child may have read was deleted or renamed after it', async () => {
    for (const act of ['delete', 'rename'] as const) {
      const root = await bigTree();
      const { tree } = open(root);
      const prov = tree.early()!;
      if (act === 'delete') rmSync(join(root, 'src/d4/f4.js'));
      else renameSync(join(root, 'src/d4/f4.js'), join(root, 'src/d4/moved.js'));
      await tree.start();
      expect(await verdict(prov, tree), act).toBe('refuted');
    }
  });

  it('refutes the start when a directory emptied after it held the only file', async () => {
    const root = await bigTree({ 'lonely/only.js': 'export const only = 1;\n' });
    const { tree, changes } = open(root);
    const prov = tree.early()!;
    rmSync(join(root, 'lonely/only.js'));
    await tree.start();
    expect(await verdict(prov, tree)).toBe('refuted');
    expect(changes.flatMap((c) => [...c.added, ...c.modified, ...c.removed])).toContain(join(root, 'lonely'));
  });

  it('refutes the start when a file appears in the root after it', async () => {
    const root = await bigTree();
    const { tree, changes } = open(root);
    const prov = tree.early()!;
    writeFileSync(join(root, 'late.js'), 'export {};\n');
    await tree.start();
    expect(changes.flatMap((c) => [...c.added, ...c.modified])).toContain(join(root, 'late.js'));
    expect(await verdict(prov, tree)).toBe('refuted');
  });

  it('saves an index that the next start uses as a saved tree', async () => {
    const root = await bigTree();
    const file = indexPath(join(root, '.devsup'), [root]);
    const first = open(root).tree;
    first.early();
    const real = await first.start();
    await first.close();
    expect(readSummary(file, root)).toEqual({ codeId: real.codeId, files: EARLY_START_MIN_FILES + 51 });
    const next = open(root).tree;
    expect(next.early()).toMatchObject({ codeId: real.codeId, provisional: true });
    expect(next.early()).toBeUndefined();
  });

  it('a close while the first look reads the files ends it there: no snapshot, nothing saved', async () => {
    const root = await bigTree();
    const file = indexPath(join(root, '.devsup'), [root]);
    let tree: WatchedTree | undefined;
    // Closed from the event loop once the look has begun reading.
    tree = open(root, { beforeFirstLook: async () => void setImmediate(() => void tree?.close()) }).tree;
    tree.early();
    await expect(tree.start()).rejects.toBeInstanceOf(TreeClosedError);
    await tree.close();
    expect(readSummary(file, root)).toBeUndefined();
    expect(tree.latest.provisional).toBe(true);
  });

  it('uses the states of an index that cannot vouch for the whole tree, without calling it damaged', async () => {
    // A path with a tab cannot be saved, so the index has no code id: no start on it, but its states serve.
    const root = await bigTree({ 'odd\tname.js': 'export {};\n' });
    const file = indexPath(join(root, '.devsup'), [root]);
    const first = open(root).tree;
    first.early();
    await first.start();
    await first.close();
    expect(readSummary(file, root)).toBeUndefined();
    const warnings: string[] = [];
    const next = new WatchedTree({ roots: [root], ignore: [], settleMs: 50, indexFile: file, onWarning: (w) => warnings.push(w), onChange: () => undefined });
    trees.push(next);
    const prov = next.early()!;
    expect(prov.unknown).toBe(true);
    await next.start();
    expect(warnings).toEqual([]);
    expect(await verdict(prov, next)).toBe('confirmed');
  });

  it('is not offered for a small tree, nor for one whose files are mostly in node_modules', async () => {
    const small = tempDir();
    writeTree(small, { 'app.js': 'a', 'lib.js': 'b' });
    expect(open(small).tree.early()).toBeUndefined();
    const deps = tempDir();
    const files: Record<string, string> = { 'app.js': 'a' };
    for (let i = 0; i < EARLY_START_MIN_FILES + 10; i++) files[`node_modules/p${i % 40}/m${i}.js`] = 'x';
    writeTree(deps, files);
    expect(open(deps).tree.early()).toBeUndefined();
  });
});

describe('changedSince', () => {
  it('gives a fine ctime a margin of a few clock ticks, a whole-second one two seconds', () => {
    const t = 1_800_000_000_000;
    expect(changedSince(t + 0.5, t)).toBe(true);
    expect(changedSince(t - 20.25, t)).toBe(true);
    expect(changedSince(t - 500.25, t)).toBe(false);
    expect(changedSince(t - 1000, t + 500)).toBe(true);
    expect(changedSince(t - 3000, t)).toBe(false);
  });
});
