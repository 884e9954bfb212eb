import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_IGNORED_DIRS, createFilter, userGlob } from '../../src/watch/filter.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

describe('createFilter', () => {
  it('skips the default directories at any depth, but not files or roots with those names', () => {
    const root = tempDir();
    writeTree(root, { 'src/app.py': '', 'src/build': '#!/bin/sh\n' });
    const f = createFilter({ roots: [root] });
    for (const name of DEFAULT_IGNORED_DIRS) {
      expect(f.skipDir(join(root, name)), name).toBe(true);
      expect(f.skipDir(join(root, 'pkg/deep', name)), `nested ${name}`).toBe(true);
      expect(f.includeFile(join(root, 'pkg', name, 'x.py')), `file in ${name}`).toBe(false);
    }
    expect(f.skipDir(join(root, 'src'))).toBe(false);
    expect(f.includeFile(join(root, 'src/app.py'))).toBe(true);
    // A file called `build` is code, not a build directory.
    expect(f.includeFile(join(root, 'src/build'))).toBe(true);

    const buildRoot = join(tempDir(), 'build');
    writeTree(buildRoot, { 'main.py': '' });
    const g = createFilter({ roots: [buildRoot] });
    expect(g.includeFile(join(buildRoot, 'main.py'))).toBe(true);
  });

  it('applies the root .gitignore and nested ones, each relative to its own directory', () => {
    const root = tempDir();
    writeTree(root, {
      '.gitignore': '*.gen.ts\nout/\n/only-top.txt\n',
      'sub/.gitignore': '!keep.gen.ts\nlocal.txt\n',
      'sub/deeper/.gitignore': 'out2/\n',
    });
    const f = createFilter({ roots: [root] });
    const p = (rel: string) => join(root, rel);
    expect(f.includeFile(p('a.gen.ts'))).toBe(false);
    expect(f.includeFile(p('x/b.gen.ts'))).toBe(false);
    expect(f.skipDir(p('out'))).toBe(true);
    expect(f.skipDir(p('sub/out'))).toBe(true);
    expect(f.includeFile(p('out/code.ts'))).toBe(false);
    expect(f.includeFile(p('only-top.txt'))).toBe(false);
    expect(f.includeFile(p('sub/only-top.txt'))).toBe(true);
    // The nested file overrides the root one below its own directory only.
    expect(f.includeFile(p('sub/keep.gen.ts'))).toBe(true);
    expect(f.includeFile(p('keep.gen.ts'))).toBe(false);
    expect(f.includeFile(p('sub/local.txt'))).toBe(false);
    expect(f.includeFile(p('sub/x/local.txt'))).toBe(false);
    expect(f.includeFile(p('local.txt'))).toBe(true);
    expect(f.skipDir(p('sub/deeper/out2'))).toBe(true);
    expect(f.skipDir(p('out2'))).toBe(false);

    const plain = createFilter({ roots: [root], gitignore: false });
    expect(plain.includeFile(p('a.gen.ts'))).toBe(true);
    expect(plain.skipDir(p('out'))).toBe(false);
  });

  it('matches --ignore globs relative to the root, bare names at any depth', () => {
    const root = tempDir();
    const f = createFilter({ roots: [root], ignore: ['tmp', '*.log', 'src/gen/**', '/top.txt', './docs/'] });
    const p = (rel: string) => join(root, rel);
    expect(f.skipDir(p('tmp'))).toBe(true);
    expect(f.skipDir(p('a/b/tmp'))).toBe(true);
    expect(f.includeFile(p('a/tmp/x.py'))).toBe(false);
    expect(f.includeFile(p('a/tmp'))).toBe(false);
    expect(f.includeFile(p('x.log'))).toBe(false);
    expect(f.includeFile(p('deep/er/.hidden.log'))).toBe(false);
    expect(f.skipDir(p('src/gen'))).toBe(true);
    expect(f.includeFile(p('src/gen/a/b.ts'))).toBe(false);
    expect(f.skipDir(p('lib/src/gen'))).toBe(false);
    expect(f.includeFile(p('top.txt'))).toBe(false);
    expect(f.includeFile(p('a/top.txt'))).toBe(true);
    expect(f.skipDir(p('docs'))).toBe(true);
    expect(f.includeFile(p('src/main.py'))).toBe(true);
    expect(userGlob('*.log')).toBe('**/*.log');
    expect(f.ignoreGlobs).toContain('**/*.log');
    expect(f.ignoreGlobs?.[0]).toContain('node_modules');
  });

  it('narrows files by extension, with or without dots, but never directories', () => {
    const root = tempDir();
    const f = createFilter({ roots: [root], ext: ['py', '.ts'] });
    const p = (rel: string) => join(root, rel);
    expect(f.includeFile(p('a.py'))).toBe(true);
    expect(f.includeFile(p('d/b.ts'))).toBe(true);
    expect(f.includeFile(p('README.md'))).toBe(false);
    expect(f.includeFile(p('py'))).toBe(false);
    expect(f.includeFile(p('.py'))).toBe(false);
    expect(f.skipDir(p('docs'))).toBe(false);
    expect(f.skipDir(p('styles.ts'))).toBe(false);
  });

  it('counts only the file itself when a root is a file, whatever the patterns say', () => {
    const root = tempDir();
    writeTree(root, { 'server.log': '', 'other.py': '', 'sub/x.py': '' });
    const file = join(root, 'server.log');
    const f = createFilter({ roots: [file], ext: ['py'], ignore: ['*.log'] });
    expect(f.includeFile(file)).toBe(true);
    expect(f.includeFile(join(root, 'other.py'))).toBe(false);
    expect(f.includeFile(join(root, 'sub/x.py'))).toBe(false);
    expect(f.skipDir(join(root, 'sub'))).toBe(true);
    expect(f.skipDir(root)).toBe(true);
  });

  it('lets a root nested in another root keep its own rules', () => {
    const root = tempDir();
    const linked = join(root, 'node_modules/linked-lib');
    writeTree(root, { 'node_modules/linked-lib/index.js': '', 'node_modules/other/index.js': '' });
    const f = createFilter({ roots: [root, linked] });
    expect(f.skipDir(join(root, 'node_modules'))).toBe(true);
    expect(f.includeFile(join(root, 'node_modules/other/index.js'))).toBe(false);
    expect(f.includeFile(join(linked, 'index.js'))).toBe(true);
    expect(f.includeFile('/somewhere/else.py')).toBe(false);
  });
});
