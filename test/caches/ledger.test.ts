import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { findCandidates, type SearchMemo } from '../../src/caches/find.js';
import type { PresetName } from '../../src/caches/presets.js';
import { DirLedger, dirLedger } from '../../src/watch/dir-ledger.js';
import { createFilter } from '../../src/watch/filter.js';
import type { Watcher } from '../../src/watch/types.js';
import { createWatcher } from '../../src/watch/watcher.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

const PRESETS: PresetName[] = ['python', 'tsbuildinfo', 'node'];

async function search(root: string, memo?: SearchMemo, ledger?: DirLedger): Promise<string[]> {
  const errors: string[] = [];
  const found = await findCandidates([root], PRESETS, [], errors, memo, ledger);
  expect(errors).toEqual([]);
  return found.map((c) => relative(root, c.display)).sort();
}

describe('DirLedger', () => {
  it('vouches for a directory watched before the mark and unheard of since', () => {
    const l = new DirLedger();
    l.watched('/a');
    const m1 = l.mark();
    expect(l.unchangedSince('/a', m1)).toBe(true);
    expect(l.unchangedSince('/a', undefined)).toBe(false);
    expect(l.unchangedSince('/b', m1)).toBe(false);
    // Watched only after the mark: what happened before the watch is unknown.
    l.watched('/b');
    expect(l.unchangedSince('/b', m1)).toBe(false);
    expect(l.unchangedSince('/b', l.mark())).toBe(true);
  });

  it('stops vouching after a change, an ended watch or lost events', () => {
    const l = new DirLedger();
    l.watched('/a');
    l.watched('/b');
    l.watched('/c');
    const m1 = l.mark();
    l.entriesChanged('/a');
    l.unwatched('/b');
    expect(l.unchangedSince('/a', m1)).toBe(false);
    expect(l.unchangedSince('/b', m1)).toBe(false);
    expect(l.unchangedSince('/c', m1)).toBe(true);
    // A change heard before a later mark does not count against that mark.
    const m2 = l.mark();
    expect(l.unchangedSince('/a', m2)).toBe(true);
    l.lost();
    expect(l.unchangedSince('/c', m2)).toBe(false);
    expect(l.unchangedSince('/c', l.mark())).toBe(true);
  });
});

describe('the cache search with a ledger', () => {
  it('does not look again at a directory the ledger vouches for', async () => {
    const root = tempDir('devsup-ledger-');
    writeTree(root, { 'src/a/keep.txt': 'k' });
    await sleep(250);
    const l = new DirLedger();
    for (const d of ['', 'src', 'src/a']) l.watched(join(root, d));
    const memo: SearchMemo = new Map();
    expect(await search(root, memo, l)).toEqual([]);
    // A cache the ledger was not told about stays unseen while it vouches for the directory...
    writeFileSync(join(root, 'src/a/x.tsbuildinfo'), '{}');
    expect(await search(root, memo, l)).toEqual([]);
    // ...and is found once it hears of it.
    l.entriesChanged(join(root, 'src/a'));
    expect(await search(root, memo, l)).toEqual(['src/a/x.tsbuildinfo']);
  });

  describe('against real inotify watches', () => {
    let watcher: Watcher | undefined;
    afterEach(async () => {
      await watcher?.close();
      watcher = undefined;
    });

    it('finds exactly what a search without a memo finds, right after each kind of change', async () => {
      const root = tempDir('devsup-ledger-');
      const outside = tempDir('devsup-ledger-out-');
      writeTree(root, { 'src/a/m.js': '1', 'src/b/n.js': '2', 'src/c/o.py': '3', 'lib/p.js': '4', 'dist/q.js': '5' });
      await sleep(250);
      watcher = await createWatcher({
        roots: [root],
        filter: createFilter({ roots: [root], ext: ['js', 'py'] }),
        onEvents: () => undefined,
        onWarning: () => undefined,
      });
      expect(watcher.backend).toBe('inotify');
      expect(dirLedger.unchangedSince(join(root, 'src/a'), dirLedger.mark())).toBe(true);

      const memo: SearchMemo = new Map();
      const check = async (): Promise<string[]> => {
        const withLedger = await search(root, memo);
        expect(withLedger).toEqual(await search(root));
        return withLedger;
      };
      expect(await check()).toEqual([]);
      expect(await check()).toEqual([]);

      writeFileSync(join(root, 'src/a/x.tsbuildinfo'), '{}');
      expect(await check()).toEqual(['src/a/x.tsbuildinfo']);

      writeTree(root, { 'src/new/deep/y.tsbuildinfo': '{}' });
      expect(await check()).toContain('src/new/deep/y.tsbuildinfo');

      renameSync(join(root, 'src/a'), join(root, 'src/a2'));
      expect(await check()).toEqual(['src/a2/x.tsbuildinfo', 'src/new/deep/y.tsbuildinfo']);

      rmSync(join(root, 'src/b'), { recursive: true });
      writeTree(root, { 'src/b/z.tsbuildinfo': '{}' });
      expect(await check()).toContain('src/b/z.tsbuildinfo');

      writeTree(outside, { 'moved/w.tsbuildinfo': '{}' });
      renameSync(join(outside, 'moved'), join(root, 'lib/moved'));
      expect(await check()).toContain('lib/moved/w.tsbuildinfo');

      // Python's cache directory is never watched, but its parent is.
      writeTree(root, { 'src/c/__pycache__/o.cpython-311.pyc': 'c' });
      expect(await check()).toContain('src/c/__pycache__');

      // dist is never watched: the search stats it, as without a ledger.
      writeFileSync(join(root, 'dist/tsconfig.tsbuildinfo'), '{}');
      expect(await check()).toContain('dist/tsconfig.tsbuildinfo');

      rmSync(join(root, 'src/c/__pycache__'), { recursive: true });
      rmSync(join(root, 'lib/moved'), { recursive: true });
      expect(await check()).not.toContain('src/c/__pycache__');
    });
  });
});
