import { existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clearCaches, removeCandidates } from '../../src/caches/clear.js';
import { findCandidates, type SearchMemo } from '../../src/caches/find.js';
import type { PresetName } from '../../src/caches/presets.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

/** Every preset's artifacts plus look-alikes that must survive, and copies where no walk may go. */
const TREE: Record<string, string> = {
  'src/app.py': 'print(1)\n',
  'src/__pycache__/app.cpython-311.pyc': 'p'.repeat(100),
  'src/pkg/__pycache__/m.cpython-311.pyc': 'p'.repeat(50),
  'src/pkg/__pycache__/nested/extra.txt': 'e'.repeat(7),
  'legacy.pyc': 'l'.repeat(11),
  'src/pycache_notes.txt': 'keep',
  'src/x.pyc.txt': 'keep',
  '.pytest_cache/README.md': 'r'.repeat(20),
  'tests/.pytest_cache/v/cache/lastfailed': '{}',
  'node_modules/.cache/babel/a.json': 'b'.repeat(300),
  'node_modules/.vite/deps/react.js': 'v'.repeat(400),
  'node_modules/.vitex/keep': 'keep',
  'node_modules/pkg/__pycache__/x.pyc': 'keep',
  'node_modules/pkg/lib.tsbuildinfo': 'keep',
  'node_modules/pkg/.pytest_cache/x': 'keep',
  'node_modules/pkg/node_modules/.cache/x': 'keep',
  'packages/web/node_modules/.vite/deps/a.js': 'w'.repeat(30),
  'packages/web/tsconfig.tsbuildinfo': 't'.repeat(5),
  'tsconfig.tsbuildinfo': 't'.repeat(9),
  'tsconfig.json': '{}',
  'src/.cache/x': 'keep',
  '.git/__pycache__/x.pyc': 'keep',
  '.git/a.tsbuildinfo': 'keep',
  '.git/node_modules/.cache/x': 'keep',
  '.devsup/logs/api/__pycache__/x.pyc': 'keep',
  '.devsup/index/a.tsbuildinfo': 'keep',
  // Virtual environments, whatever their name: installed packages, whose bytecode is not stale.
  '.venv/pyvenv.cfg': 'home = /usr/bin\n',
  '.venv/lib/python3.11/site-packages/pkg/__pycache__/m.cpython-311.pyc': 'keep',
  'tools/env/pyvenv.cfg': 'home = /usr/bin\n',
  'tools/env/lib/python3.11/site-packages/x.pyc': 'keep',
  'tools/env/lib/python3.11/site-packages/node_modules/.cache/x': 'keep',
};

const EXPECTED: Record<PresetName, { rels: string[]; bytes: number }> = {
  python: { rels: ['legacy.pyc', 'src/__pycache__', 'src/pkg/__pycache__'], bytes: 11 + 100 + 50 + 7 },
  pytest: { rels: ['.pytest_cache', 'tests/.pytest_cache'], bytes: 20 + 2 },
  node: { rels: ['node_modules/.cache'], bytes: 300 },
  vite: { rels: ['node_modules/.vite', 'packages/web/node_modules/.vite'], bytes: 400 + 30 },
  tsbuildinfo: { rels: ['packages/web/tsconfig.tsbuildinfo', 'tsconfig.tsbuildinfo'], bytes: 5 + 9 },
};

function makeTree(files: Record<string, string> = TREE): string {
  const root = tempDir('devsup-clear-');
  writeTree(root, files);
  return root;
}

const rels = (root: string, paths: string[]) => paths.map((p) => relative(root, p)).sort();

/** Every file of the tree still on disk, as relative paths. */
function surviving(root: string, files: Record<string, string>): string[] {
  return Object.keys(files).filter((rel) => existsSync(join(root, rel)));
}

describe('clearCaches presets', () => {
  it.each(Object.keys(EXPECTED) as PresetName[])('%s finds exactly its own files', async (preset) => {
    const root = makeTree();
    const { rels: want, bytes } = EXPECTED[preset];
    const res = await clearCaches({ roots: [root], presets: [preset], globs: [] });
    expect(res.errors).toEqual([]);
    expect(rels(root, res.paths)).toEqual(want);
    expect(res.bytes).toBe(bytes);
    const gone = Object.keys(TREE).filter((rel) => want.some((w) => rel === w || rel.startsWith(`${w}/`)));
    expect(surviving(root, TREE).sort()).toEqual(Object.keys(TREE).filter((r) => !gone.includes(r)).sort());
  });

  it('all presets together clear the union and never touch .git, .devsup or node_modules packages', async () => {
    const root = makeTree();
    const all = Object.keys(EXPECTED) as PresetName[];
    const res = await clearCaches({ roots: [root], presets: all, globs: [] });
    expect(rels(root, res.paths)).toEqual(all.flatMap((p) => EXPECTED[p].rels).sort());
    expect(res.bytes).toBe(all.reduce((n, p) => n + EXPECTED[p].bytes, 0));
    const untouchable = ['.git/', '.devsup/', 'node_modules/pkg/', '.venv/lib/', 'tools/env/lib/'];
    for (const rel of Object.keys(TREE).filter((r) => untouchable.some((u) => r.startsWith(u)))) {
      expect(readFileSync(join(root, rel), 'utf8')).toBe('keep');
    }
  });

  it('reports each path once when roots overlap', async () => {
    const root = makeTree();
    const res = await clearCaches({ roots: [root, join(root, 'src'), root], presets: ['python'], globs: [] });
    expect(res.paths.length).toBe(3);
    expect(res.bytes).toBe(EXPECTED.python.bytes);
  });
});

describe('a search memo kept between starts', () => {
  const all = Object.keys(EXPECTED) as PresetName[];
  const found = async (root: string, memo?: SearchMemo) => {
    const errors: string[] = [];
    const c = await findCandidates([root], all, ['**/*.tmpcache'], errors, memo);
    expect(errors).toEqual([]);
    return rels(root, c.map((x) => x.display)).sort();
  };

  it('finds what a search without it finds, reads only directories whose entries changed, and forgets gone ones', async () => {
    const root = makeTree();
    // A directory ctime younger than the racy window (200 ms) is not kept: the tree is aged first.
    await sleep(250);
    const memo: SearchMemo = new Map();
    const first = await found(root, memo);
    expect(first).toEqual(await found(root));
    expect(memo.size).toBeGreaterThan(5);
    const kept = new Map(memo);
    expect(await found(root, memo)).toEqual(first);
    for (const [dir, entry] of kept) expect(memo.get(dir), dir).toBe(entry);

    expect(memo.has(join(root, 'packages/web'))).toBe(true);
    writeTree(root, { 'src/pkg/sub/__pycache__/n.pyc': 'n', 'tests/x.tmpcache': 't' });
    rmSync(join(root, 'packages/web'), { recursive: true });
    rmSync(join(root, 'src/pkg/__pycache__'), { recursive: true });
    const third = await found(root, memo);
    expect(third).toEqual(await found(root));
    expect(third).toContain('src/pkg/sub/__pycache__');
    expect(third).toContain('tests/x.tmpcache');
    expect(third).not.toContain('packages/web/tsconfig.tsbuildinfo');
    expect(third).not.toContain('src/pkg/__pycache__');
    // An untouched directory was not read again; a gone one is forgotten.
    expect(memo.get(join(root, 'src'))).toBeDefined();
    expect(memo.get(join(root, 'src'))).toBe(kept.get(join(root, 'src')));
    expect(memo.has(join(root, 'packages/web'))).toBe(false);
  });

  it('notices a directory becoming a virtual environment, and ceasing to be one', async () => {
    const root = makeTree({ 'tools/env/lib/__pycache__/x.pyc': 'x', 'src/__pycache__/a.pyc': 'a' });
    await sleep(250);
    const memo: SearchMemo = new Map();
    expect(await found(root, memo)).toEqual(['src/__pycache__', 'tools/env/lib/__pycache__']);
    writeFileSync(join(root, 'tools/env/pyvenv.cfg'), 'home = /usr/bin\n');
    await sleep(250);
    expect(await found(root, memo)).toEqual(['src/__pycache__']);
    expect(await found(root, memo)).toEqual(['src/__pycache__']);
    rmSync(join(root, 'tools/env/pyvenv.cfg'));
    expect(await found(root, memo)).toEqual(['src/__pycache__', 'tools/env/lib/__pycache__']);
  });

  it('still knows a kept virtual environment for what a glob finds inside it', async () => {
    const root = makeTree({ '.venv/pyvenv.cfg': '', '.venv/lib/__pycache__/m.pyc': 'm', '.venv/lib/a.log': 'a' });
    await sleep(250);
    const memo: SearchMemo = new Map();
    const search = async () => {
      const c = await findCandidates([root], ['python'], ['.venv/lib/*.log'], [], memo);
      return rels(root, c.map((x) => x.display));
    };
    expect(await search()).toEqual(['.venv/lib/a.log']);
    expect(memo.has(join(root, '.venv'))).toBe(true);
    // The second search replays .venv from the memo and reads .venv/lib, which is not kept.
    expect(await search()).toEqual(['.venv/lib/a.log']);
    expect(memo.has(join(root, '.venv/lib'))).toBe(false);
  });
});

describe('clearCaches globs', () => {
  const files = {
    'tmp/cache/a.bin': 'a'.repeat(10),
    'tmp/cache/.hidden/b.bin': 'b'.repeat(20),
    'tmp/cachex/keep': 'keep',
    'tmp/other/keep': 'keep',
    'a.log': 'l'.repeat(3),
    'src/b.log': 'l'.repeat(4),
    'node_modules/pkg/c.log': 'keep',
    '.git/d.log': 'keep',
    'node_modules/.cache/babel/x.json': 'x'.repeat(6),
    'node_modules/.cache/other/keep': 'keep',
    'top.tmp': 't',
    'src/nested.tmp': 'keep',
  };

  it('match relative to the root, remove matching directories whole, skip node_modules unless named', async () => {
    const root = makeTree(files);
    const res = await clearCaches({
      roots: [root],
      presets: [],
      globs: ['tmp/cache/**', '**/*.log', 'node_modules/.cache/babel/**', '*.tmp'],
    });
    expect(res.errors).toEqual([]);
    expect(rels(root, res.paths)).toEqual(['a.log', 'node_modules/.cache/babel', 'src/b.log', 'tmp/cache', 'top.tmp']);
    expect(res.bytes).toBe(10 + 20 + 3 + 4 + 6 + 1);
    expect(surviving(root, files).sort()).toEqual(
      Object.keys(files)
        .filter((r) => r.endsWith('keep') || ['node_modules/pkg/c.log', '.git/d.log', 'src/nested.tmp'].includes(r))
        .sort(),
    );
    expect(readFileSync(join(root, 'src/nested.tmp'), 'utf8')).toBe('keep');
  });

  it('reach into a virtual environment only when their literal base names it', async () => {
    const venv = { '.venv/pyvenv.cfg': '', '.venv/lib/a.log': 'a', '.venv/other/b.tmpx': 'b', 'c.tmpx': 'c' };
    const root = makeTree(venv);
    const res = await clearCaches({ roots: [root], presets: [], globs: ['.venv/lib/*.log', '**/*.tmpx'] });
    expect(rels(root, res.paths)).toEqual(['.venv/lib/a.log', 'c.tmpx']);
  });

  it('a literal path is a glob too', async () => {
    const root = makeTree(files);
    const res = await clearCaches({ roots: [root], presets: [], globs: ['tmp/other'] });
    expect(rels(root, res.paths)).toEqual(['tmp/other']);
  });
});

describe('clearCaches dryRun', () => {
  it('deletes nothing and reports the same paths and bytes as the real run', async () => {
    const root = makeTree();
    const opts = { roots: [root], presets: ['python', 'pytest', 'node', 'vite', 'tsbuildinfo'] as PresetName[], globs: ['src/*.txt'] };
    const dry = await clearCaches({ ...opts, dryRun: true });
    expect(dry.paths.length).toBeGreaterThan(5);
    expect(surviving(root, TREE)).toEqual(Object.keys(TREE));
    const real = await clearCaches(opts);
    expect(real).toEqual(dry);
    for (const p of dry.paths) expect(existsSync(p)).toBe(false);
    const again = await clearCaches(opts);
    expect(again).toEqual({ paths: [], bytes: 0, errors: [] });
  });
});

describe('clearCaches and symlinks', () => {
  function setup() {
    const outside = tempDir('devsup-outside-');
    writeTree(outside, {
      '__pycache__/o.cpython-311.pyc': 'OUTSIDE-1',
      'big.pyc': 'OUTSIDE-2',
      '.pytest_cache/v': 'OUTSIDE-3',
      'inner/__pycache__/z.pyc': 'OUTSIDE-4',
      'inner/x.tsbuildinfo': 'OUTSIDE-5',
    });
    const root = makeTree({ 'src/__pycache__/real.pyc': 'r'.repeat(13), 'src/mod.py': 'X = 1\n' });
    symlinkSync(outside, join(root, 'linkdir'));
    symlinkSync(join(outside, 'big.pyc'), join(root, 'linked.pyc'));
    symlinkSync(join(outside, 'big.pyc'), join(root, 'src/__pycache__/escape.pyc'));
    symlinkSync(outside, join(root, 'src/__pycache__/dirlink'));
    mkdirSync(join(root, 'pkg'));
    symlinkSync(join(outside, '__pycache__'), join(root, 'pkg/__pycache__'));
    symlinkSync(join(outside, '.pytest_cache'), join(root, '.pytest_cache'));
    const outsideFiles = ['__pycache__/o.cpython-311.pyc', 'big.pyc', '.pytest_cache/v', 'inner/__pycache__/z.pyc', 'inner/x.tsbuildinfo'];
    const expectOutsideIntact = () => {
      outsideFiles.forEach((rel, i) => expect(readFileSync(join(outside, rel), 'utf8')).toBe(`OUTSIDE-${i + 1}`));
    };
    return { root, outside, expectOutsideIntact };
  }

  it('removes links that match as links, never walks a symlinked directory, leaves targets alone', async () => {
    const { root, expectOutsideIntact } = setup();
    const res = await clearCaches({ roots: [root], presets: ['python', 'pytest', 'tsbuildinfo'], globs: [] });
    expect(res.errors).toEqual([]);
    expect(rels(root, res.paths)).toEqual(['.pytest_cache', 'linked.pyc', 'pkg/__pycache__', 'src/__pycache__']);
    // Only the one regular file inside the root counts; links weigh nothing.
    expect(res.bytes).toBe(13);
    expectOutsideIntact();
    expect(lstatSync(join(root, 'linkdir')).isSymbolicLink()).toBe(true);
    for (const rel of ['linked.pyc', 'pkg/__pycache__', '.pytest_cache', 'src/__pycache__']) {
      expect(() => lstatSync(join(root, rel))).toThrow();
    }
  });

  it('does not follow a symlinked directory named by a glob', async () => {
    const { root, expectOutsideIntact } = setup();
    const res = await clearCaches({ roots: [root], presets: [], globs: ['linkdir/*.pyc', 'linkdir/inner/**'] });
    expect(res).toEqual({ paths: [], bytes: 0, errors: [] });
    expectOutsideIntact();
  });

  it('refuses to delete when a directory on the way became a symlink to outside after the walk', async () => {
    const { root, outside, expectOutsideIntact } = setup();
    writeTree(root, { 'inner/__pycache__/z.pyc': 'inside' });
    const errors: string[] = [];
    const found = await findCandidates([root], ['python'], [], errors);
    expect(rels(root, found.map((c) => c.display))).toContain('inner/__pycache__');
    renameSync(join(root, 'inner'), join(root, 'inner-moved'));
    symlinkSync(join(outside, 'inner'), join(root, 'inner'));
    const res = await removeCandidates(found, false);
    expect(res.errors.some((e) => e.includes('inner/__pycache__') && e.includes('outside the root'))).toBe(true);
    expect(res.paths.map((p) => relative(root, p))).not.toContain('inner/__pycache__');
    expectOutsideIntact();
  });

  it('works when the root itself is given through a symlink and reports paths under it', async () => {
    const root = makeTree({ '__pycache__/a.pyc': 'aa' });
    const alias = join(tempDir('devsup-alias-'), 'alias');
    symlinkSync(root, alias);
    const res = await clearCaches({ roots: [alias], presets: ['python'], globs: [] });
    expect(res.paths).toEqual([join(alias, '__pycache__')]);
    expect(existsSync(join(root, '__pycache__'))).toBe(false);
  });
});

describe('clearCaches odd roots', () => {
  it('reports a missing root as an error instead of throwing', async () => {
    const root = join(tempDir(), 'nope');
    const res = await clearCaches({ roots: [root], presets: ['python'], globs: [] });
    expect(res.paths).toEqual([]);
    expect(res.errors).toHaveLength(1);
    expect(res.errors[0]).toContain(root);
  });

  it('treats a file root as having nothing inside', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.pyc'), 'x');
    const res = await clearCaches({ roots: [join(dir, 'x.pyc')], presets: ['python'], globs: ['**'] });
    expect(res).toEqual({ paths: [], bytes: 0, errors: [] });
    expect(existsSync(join(dir, 'x.pyc'))).toBe(true);
  });
});
