import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { createFilter } from '../../src/watch/filter.js';
import type { PathFilter } from '../../src/watch/types.js';
import { treeSource } from '../../src/watch/walk.js';
import { removeTempDirs, tempDir, writeTree } from '../helpers/tmp.js';

afterAll(removeTempDirs);

/** Directory ctimes younger than the racy window (200 ms) are not trusted, so the tree is aged first. */
const AGE_MS = 250;

/** A filter that counts the files it is asked about: each one stands for a directory listed again. */
function counting(roots: string[]): { filter: PathFilter; judged: string[] } {
  const inner = createFilter({ roots });
  const judged: string[] = [];
  const filter: PathFilter = {
    skipDir: (p) => inner.skipDir(p),
    includeFile: (p) => {
      judged.push(p);
      return inner.includeFile(p);
    },
    ignoreGlobs: inner.ignoreGlobs,
  };
  return { filter, judged };
}

async function agedTree(files: Record<string, string>): Promise<string> {
  const root = tempDir();
  writeTree(root, files);
  await sleep(AGE_MS);
  return root;
}

describe('early listing', () => {
  it('confirms an unchanged tree without listing anything again', async () => {
    const root = await agedTree({ 'a.js': '1', 'src/b.js': '2', 'src/deep/c.js': '3' });
    const { filter, judged } = counting([root]);
    const early = await treeSource([root], filter, () => undefined).listEarly();
    judged.length = 0;
    const files = await early.confirm();
    expect(files.sort()).toEqual([join(root, 'a.js'), join(root, 'src/b.js'), join(root, 'src/deep/c.js')]);
    expect(judged).toEqual([]);
  });

  it('lists again the directories whose entries changed after the listing, and only those', async () => {
    const root = await agedTree({ 'a.js': '1', 'src/b.js': '2', 'src/gone.js': 'g', 'lib/d.js': '4', 'old/e.js': '5' });
    const { filter, judged } = counting([root]);
    const early = await treeSource([root], filter, () => undefined).listEarly();
    judged.length = 0;
    writeFileSync(join(root, 'src/added.js'), 'new');
    rmSync(join(root, 'src/gone.js'));
    mkdirSync(join(root, 'lib/fresh/deeper'), { recursive: true });
    writeFileSync(join(root, 'lib/fresh/deeper/f.js'), 'f');
    renameSync(join(root, 'old'), join(root, 'moved'));
    const files = await early.confirm();
    expect(files.sort()).toEqual(
      ['a.js', 'lib/d.js', 'lib/fresh/deeper/f.js', 'moved/e.js', 'src/added.js', 'src/b.js'].map((f) => join(root, f)),
    );
    // The root changed too (a directory was renamed in it), so all of it was listed again.
    expect(judged.length).toBeGreaterThan(0);
  });

  it('leaves the directories that did not change alone', async () => {
    const root = await agedTree({ 'src/b.js': '2', 'lib/d.js': '4', 'lib/more/e.js': '5' });
    const { filter, judged } = counting([root]);
    const early = await treeSource([root], filter, () => undefined).listEarly();
    judged.length = 0;
    writeFileSync(join(root, 'src/added.js'), 'new');
    const files = await early.confirm();
    expect(files).toContain(join(root, 'src/added.js'));
    expect(judged.sort()).toEqual([join(root, 'src/added.js'), join(root, 'src/b.js')]);
  });

  it('takes in a root that appeared after the listing', async () => {
    const base = tempDir();
    const root = join(base, 'later');
    const warnings: string[] = [];
    const early = await treeSource([root], createFilter({ roots: [root] }), (w) => warnings.push(w)).listEarly();
    expect(warnings).toEqual([`watched path ${root} does not exist`]);
    writeTree(root, { 'x.js': 'x' });
    expect(await early.confirm()).toEqual([join(root, 'x.js')]);
  });
});
