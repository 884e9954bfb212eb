import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commandFiles, describeExclusion, explainNoFiles, namedButIgnored } from '../../src/watch/explain.js';
import { createFilter } from '../../src/watch/filter.js';
import { tempDir, writeTree } from '../helpers/tmp.js';

describe('filter.why', () => {
  it('names the outermost rule that leaves a file out', () => {
    const root = tempDir();
    writeTree(root, { '.gitignore': 'gen/\n*.log\n', 'dist/a/b.js': '', 'gen/x.py': '', 'tmp/y.js': '', 'z.log': '', 'ok.js': '', 'c.txt': '' });
    const f = createFilter({ roots: [root], ignore: ['tmp'], ext: ['js', 'py', 'log'] });
    expect(f.why(join(root, 'ok.js'))).toBeUndefined();
    expect(f.why(join(root, 'dist/a/b.js'))).toEqual({ rule: 'default-dir', dir: join(root, 'dist') });
    expect(f.why(join(root, 'gen/x.py'))).toEqual({ rule: 'gitignore', dir: join(root, 'gen') });
    expect(f.why(join(root, 'tmp/y.js'))).toEqual({ rule: 'ignore', glob: 'tmp', dir: join(root, 'tmp') });
    expect(f.why(join(root, 'z.log'))).toEqual({ rule: 'gitignore' });
    expect(f.why(join(root, 'c.txt'))).toEqual({ rule: 'ext', ext: ['js', 'py', 'log'] });
    expect(f.why('/elsewhere/q.js')).toEqual({ rule: 'outside' });
  });
});

describe('the files a command names', () => {
  it('are the existing files under the project, flags with =path included, tools left out', () => {
    const root = tempDir();
    writeTree(root, { 'dist/server.js': '', '.env': '', 'node_modules/.bin/vite': '', 'src/a.ts': '' });
    const words = ['node', '--env-file=.env', 'dist/server.js', 'node_modules/.bin/vite', 'missing.js', '/etc/hostname', '-r', 'src', join(root, 'src/a.ts')];
    expect(commandFiles(words, root).sort()).toEqual([join(root, '.env'), join(root, 'dist/server.js'), join(root, 'src/a.ts')].sort());
  });

  it('are kept when an ignore rule would leave them out, not when --ext does', () => {
    const root = tempDir();
    writeTree(root, { 'dist/server.js': '', 'src/a.ts': '', 'out/x.js': '' });
    const files = [join(root, 'dist/server.js'), join(root, 'src/a.ts'), join(root, 'out/x.js')];
    expect(namedButIgnored(files, { roots: [root], ignore: ['out'] })).toEqual([
      { path: join(root, 'dist/server.js'), why: { rule: 'default-dir', dir: join(root, 'dist') } },
      { path: join(root, 'out/x.js'), why: { rule: 'ignore', glob: 'out', dir: join(root, 'out') } },
    ]);
    expect(namedButIgnored([join(root, 'src/a.ts')], { roots: [root], ext: ['py'] })).toEqual([]);
    expect(describeExclusion({ rule: 'default-dir', dir: join(root, 'dist') }, root)).toBe('dist/ is ignored by default (every dist/ directory is)');
  });
});

describe('explainNoFiles', () => {
  it('names the rule that leaves out most files, and what to change', () => {
    const root = tempDir();
    writeTree(root, { '.gitignore': 'gen/\n', 'gen/a.py': '', 'gen/b.py': '', 'build/c.py': '', 'node_modules/x/y.js': '' });
    const text = explainNoFiles({ roots: [root] });
    expect(text).toMatch(/^watching no files: 2 of the 4 files under .* are left out because a \.gitignore rule covers gen\/; watch it anyway with --watch gen/);
  });

  it('says so when there is nothing to watch at all', () => {
    const root = tempDir();
    expect(explainNoFiles({ roots: [root] })).toMatch(/holds none/);
  });
});
