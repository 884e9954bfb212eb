import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEditorTemp } from '../../src/watch/editor-temp.js';
import { createFilter } from '../../src/watch/filter.js';
import { tempDir } from '../helpers/tmp.js';

const TEMPS = [
  '.app.py.swp', '.app.py.swo', '.app.py.swn', '.app.py.swx', 'app.py~', '.app.py.un~', '4913', '5036',
  '#app.py#', '.#app.py', 'app.py___jb_tmp___', 'app.py___jb_old___', '.app.py.kate-swp',
  '.goutputstream-ABC123', '.~lock.notes.odt#', 'app.py.crswap',
];
const CODE = [
  'app.py', 'swap.py', 'main.swift', 'logo.svg', 'index.js', '4912', '4914', '2024', 'v1.2', 'a#b.py',
  'jb_tmp.py', 'README', 'tilde~name.py', '.env', '.eslintrc.json',
];

describe('editor temp files', () => {
  it('recognises swap, backup, lock and atomic-save names and leaves code alone', () => {
    for (const n of TEMPS) expect(isEditorTemp(n), n).toBe(true);
    for (const n of CODE) expect(isEditorTemp(n), n).toBe(false);
  });

  it('are left out by the default filter at any depth, unless named as a root', () => {
    const root = tempDir();
    const f = createFilter({ roots: [root] });
    for (const n of TEMPS) {
      expect(f.includeFile(join(root, n)), n).toBe(false);
      expect(f.includeFile(join(root, 'pkg/deep', n)), `deep ${n}`).toBe(false);
    }
    for (const n of CODE) expect(f.includeFile(join(root, 'pkg', n)), n).toBe(true);
    // A directory that looks like a backup is still walked: only files are judged by name.
    expect(f.skipDir(join(root, 'old~'))).toBe(false);
    const named = join(root, 'notes~');
    writeFileSync(named, 'kept on purpose');
    expect(createFilter({ roots: [named] }).includeFile(named)).toBe(true);
  });
});
