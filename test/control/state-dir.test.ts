import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { controlPaths } from '../../src/state/paths.js';
import { prepareSocketPath } from '../../src/control/socket-file.js';
import { removeTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(removeTempDirs);

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' });

describe('the state directory', () => {
  it('keeps itself out of git status without the project ignoring it', async () => {
    const root = tempDir();
    git(root, 'init', '-q');
    writeFileSync(join(root, 'app.js'), '1');
    await prepareSocketPath(controlPaths(root));
    writeFileSync(join(root, '.devsup', 'index-like'), 'x'.repeat(100));
    expect(git(root, 'status', '--porcelain', '--untracked-files=all').trim()).toBe('?? app.js');
  });

  it('writes again an empty .gitignore, which only a write cut short by a full disk leaves', async () => {
    const root = tempDir();
    mkdirSync(join(root, '.devsup'), { mode: 0o700 });
    writeFileSync(join(root, '.devsup', '.gitignore'), '');
    await prepareSocketPath(controlPaths(root));
    expect(readFileSync(join(root, '.devsup', '.gitignore'), 'utf8')).toContain('\n*\n');
  });

  it('leaves a .gitignore that is already there as it is', async () => {
    const root = tempDir();
    mkdirSync(join(root, '.devsup'), { mode: 0o700 });
    writeFileSync(join(root, '.devsup', '.gitignore'), 'mine\n');
    await prepareSocketPath(controlPaths(root));
    expect(readFileSync(join(root, '.devsup', '.gitignore'), 'utf8')).toBe('mine\n');
  });
});
