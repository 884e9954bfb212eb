import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { findCandidates } from '../../src/caches/find.js';
import { SavedSearch, searchMemoPath } from '../../src/caches/saved-search.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

describe('SavedSearch', () => {
  it('gives the next run every directory of the memo, virtual environments included', async () => {
    const root = tempDir('devsup-saved-');
    const state = tempDir('devsup-saved-state-');
    writeTree(root, { 'src/__pycache__/a.pyc': 'a', '.venv/pyvenv.cfg': '', '.venv/lib/__pycache__/b.pyc': 'b' });
    await sleep(250);
    const file = searchMemoPath(state, [root], ['python'], []);
    const first = new SavedSearch(file);
    const found = await findCandidates([root], ['python'], [], [], first.memo);
    expect(found.map((c) => c.display)).toEqual([join(root, 'src/__pycache__')]);
    first.searched(found.length);
    await waitFor(() => existsSync(file), 'the memo to be written', 5000);

    const next = new SavedSearch(file);
    expect(next.lastFoundNothing).toBe(false);
    expect([...next.memo.keys()].sort()).toEqual([...first.memo.keys()].sort());
    expect(next.memo.get(join(root, '.venv'))?.steps).toEqual([[3, '.venv']]);
    // Read from the memo, the virtual environment is still left alone.
    const again = await findCandidates([root], ['python'], [], [], next.memo);
    expect(again.map((c) => c.display)).toEqual([join(root, 'src/__pycache__')]);
  });
});
