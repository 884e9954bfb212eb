import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createFilter } from '../../src/watch/filter.js';
import type { PathFilter } from '../../src/watch/types.js';
import { walkFiles } from '../../src/watch/walk.js';
import { tempDir, writeTree } from '../helpers/tmp.js';
import { compileWatch, runScript } from './compiled.js';

/** Records every path the walk shows the filter: the walk learns names only by listing directories. */
function spying(inner: PathFilter): PathFilter & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    skipDir: (p) => (seen.push(p), inner.skipDir(p)),
    includeFile: (p) => (seen.push(p), inner.includeFile(p)),
  };
}

describe('walkFiles', () => {
  it('returns sorted absolute paths of the files that count', async () => {
    const root = tempDir();
    writeTree(root, {
      'b.py': '',
      'a/z.py': '',
      'a/y.md': '',
      '.gitignore': 'secret.py\n',
      'secret.py': '',
      'dist/out.js': '',
      'x.log': '',
    });
    const warnings: string[] = [];
    const files = await walkFiles([root], createFilter({ roots: [root], ignore: ['*.log'] }), (w) => warnings.push(w));
    expect(files).toEqual([join(root, '.gitignore'), join(root, 'a/y.md'), join(root, 'a/z.py'), join(root, 'b.py')]);
    expect(warnings).toEqual([]);
  });

  it('never lists an ignored node_modules, however big', async () => {
    const root = tempDir();
    writeTree(root, { 'src/app.ts': '' });
    for (let d = 0; d < 20; d++) {
      const dir = join(root, 'node_modules', `pkg${d}`, 'lib');
      mkdirSync(dir, { recursive: true });
      for (let i = 0; i < 250; i++) writeFileSync(join(dir, `f${i}.js`), '');
    }
    const filter = spying(createFilter({ roots: [root] }));
    const files = await walkFiles([root], filter, () => undefined);
    expect(files).toEqual([join(root, 'src/app.ts')]);
    expect(filter.seen).toContain(join(root, 'node_modules'));
    expect(filter.seen.filter((p) => p.startsWith(join(root, 'node_modules') + '/'))).toEqual([]);
  });

  it('counts symlinked files, does not descend symlinked directories, survives a loop', async () => {
    const root = tempDir();
    const outside = tempDir();
    writeTree(root, { 'real/a.py': '' });
    writeTree(outside, { 'ext.py': '', 'lib/inner.py': '' });
    symlinkSync(join(outside, 'ext.py'), join(root, 'linked.py'));
    symlinkSync(join(outside, 'lib'), join(root, 'linked-dir'));
    symlinkSync('..', join(root, 'real/loop'));
    symlinkSync(join(root, 'nowhere.py'), join(root, 'dangling.py'));
    const files = await walkFiles([root], createFilter({ roots: [root] }), () => undefined);
    expect(files).toEqual([join(root, 'linked.py'), join(root, 'real/a.py')]);
  });

  it('walks several roots, including a file root, without duplicates', async () => {
    const a = tempDir();
    const b = tempDir();
    writeTree(a, { 'x.py': '', 'sub/y.py': '' });
    writeTree(b, { 'one.md': '', 'two.md': '' });
    const roots = [a, join(a, 'sub'), join(b, 'one.md')];
    const files = await walkFiles(roots, createFilter({ roots, ext: ['py'] }), () => undefined);
    expect(files).toEqual([join(a, 'sub/y.py'), join(a, 'x.py'), join(b, 'one.md')].sort());
  });

  it('leaves out a directory that vanishes mid-walk, silently', async () => {
    const root = tempDir();
    writeTree(root, { 'keep.py': '', 'gone/a.py': '', 'gone/deep/b.py': '' });
    const real = createFilter({ roots: [root] });
    // The walk has listed `gone` as a directory; it disappears before the walk reads it.
    const filter: PathFilter = {
      skipDir: (p) => {
        if (p === join(root, 'gone')) rmSync(p, { recursive: true });
        return real.skipDir(p);
      },
      includeFile: (p) => real.includeFile(p),
    };
    const warnings: string[] = [];
    const files = await walkFiles([root], filter, (w) => warnings.push(w));
    expect(files).toEqual([join(root, 'keep.py')]);
    expect(warnings).toEqual([]);
  });

  it('warns once about a missing root and still walks the others', async () => {
    const root = tempDir();
    writeTree(root, { 'a.py': '' });
    const missing = join(root, 'nope');
    const warnings: string[] = [];
    const files = await walkFiles([root, missing], createFilter({ roots: [root, missing] }), (w) => warnings.push(w));
    expect(files).toEqual([join(root, 'a.py')]);
    expect(warnings).toEqual([`watched path ${missing} does not exist`]);
  });

  // Permission bits do not stop root, so as root the walk runs in a child process as `nobody`.
  it('skips an unreadable directory with one warning naming it', async () => {
    const root = tempDir();
    writeTree(root, { 'ok/a.py': '', 'locked/secret.py': '', 'locked/sub/b.py': '', 'z.py': '' });
    const locked = join(root, 'locked');
    chmodSync(locked, 0o000);
    let result: { files: string[]; warnings: string[] };
    if (process.getuid?.() !== 0) {
      const warnings: string[] = [];
      const files = await walkFiles([root], createFilter({ roots: [root] }), (w) => warnings.push(w));
      result = { files, warnings };
    } else {
      chmodSync(root, 0o755);
      const out = await compileWatch();
      const script = join(out, '..', 'walk-as-user.mjs');
      writeFileSync(
        script,
        `import { createFilter } from './watch/filter.js';\nimport { walkFiles } from './watch/walk.js';\n` +
          `const root = process.argv[2]; const warnings = [];\n` +
          `const files = await walkFiles([root], createFilter({ roots: [root] }), (w) => warnings.push(w));\n` +
          `console.log(JSON.stringify({ files, warnings }));\n`,
      );
      const child = await runScript(script, [root], { timeoutMs: 20_000, uid: 65534, gid: 65534 });
      expect(child.stderr).toBe('');
      result = JSON.parse(child.stdout) as typeof result;
    }
    chmodSync(locked, 0o755);
    expect(result.files).toEqual([join(root, 'ok/a.py'), join(root, 'z.py')]);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toContain(locked);
    expect(result.warnings[0]).toContain('permission denied');
  });
});
