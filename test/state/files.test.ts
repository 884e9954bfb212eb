import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StateError } from '../../src/state/errors.js';
import { createFileExclusive, isTempOf, stateSubdir, stateSubdirSync, tempPathFor, writeFileAtomicSync } from '../../src/state/files.js';
import { breakLock, readLockFile } from '../../src/state/lock.js';
import { findProjectRoot, findStateDir, stateDirFor, STATE_DIR_NAME } from '../../src/state/paths.js';
import { removeTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(removeTempDirs);

describe('finding the project', () => {
  it('walks up to the nearest .devsup, and to the nearest lock of a name', () => {
    const root = tempDir();
    const deep = join(root, 'a', 'b', 'c');
    mkdirSync(join(root, 'a', STATE_DIR_NAME), { recursive: true });
    mkdirSync(join(root, STATE_DIR_NAME));
    writeFileSync(join(root, STATE_DIR_NAME, 'default.lock'), '{}');
    mkdirSync(deep, { recursive: true });
    expect(findStateDir(deep)).toBe(join(root, 'a', STATE_DIR_NAME));
    expect(findProjectRoot(deep)).toBe(root);
    expect(findProjectRoot(deep, 'other')).toBe(deep);
    expect(stateDirFor(join(root, 'a', 'b'))).toBe(join(root, 'a', STATE_DIR_NAME));
  });

  it('takes the directory it was asked about when there is no .devsup above', () => {
    const lonely = tempDir();
    // /tmp itself might hold a .devsup from elsewhere; only the answer's shape is asserted then.
    if (findStateDir(lonely) === null) expect(stateDirFor(lonely)).toBe(join(lonely, STATE_DIR_NAME));
  });
});

describe('state subdirectories', () => {
  it('are made level by level, private, async and sync alike', async () => {
    const state = join(tempDir(), STATE_DIR_NAME);
    expect(await stateSubdir(state, 'logs', 'w')).toBe(join(state, 'logs', 'w'));
    expect(stateSubdirSync(state, 'index')).toBe(join(state, 'index'));
    for (const d of [state, join(state, 'logs'), join(state, 'logs', 'w'), join(state, 'index')]) {
      expect(statSync(d).mode & 0o777).toBe(0o700);
    }
  });

  it('refuse a path that would climb or nest, and a file where a directory belongs', async () => {
    const state = join(tempDir(), STATE_DIR_NAME);
    await expect(stateSubdir(state, '..')).rejects.toThrow(RangeError);
    expect(() => stateSubdirSync(state, 'a/b')).toThrow(RangeError);
    await stateSubdir(state);
    writeFileSync(join(state, 'index'), '');
    expect(() => stateSubdirSync(state, 'index')).toThrow(StateError);
    await expect(stateSubdir(state, 'index')).rejects.toThrow(/is not a directory/);
  });

  it('refuse a link below the state directory even when it points inside it', async () => {
    const state = join(tempDir(), STATE_DIR_NAME);
    await stateSubdir(state, 'real');
    symlinkSync('real', join(state, 'logs'));
    await expect(stateSubdir(state, 'logs')).rejects.toThrow(`${join(state, 'logs')} is a symlink`);
    expect(() => stateSubdirSync(state, 'logs')).toThrow(`${join(state, 'logs')} is a symlink`);
  });
});

describe('writes that are whole or absent', () => {
  it('writeFileAtomicSync replaces the content and leaves no temp file', () => {
    const dir = tempDir();
    const file = join(dir, 'f');
    writeFileAtomicSync(file, 'one');
    writeFileAtomicSync(file, Buffer.from('two'));
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(dir)).toEqual(['f']);
  });

  it('createFileExclusive creates once, and never over anything, a dangling link included', async () => {
    const dir = tempDir();
    expect(await createFileExclusive(join(dir, 'a'), 'first')).toBe(true);
    expect(await createFileExclusive(join(dir, 'a'), 'second')).toBe(false);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('first');
    symlinkSync(join(dir, 'target'), join(dir, 'b'));
    expect(await createFileExclusive(join(dir, 'b'), 'x')).toBe(false);
    expect(existsSync(join(dir, 'target'))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual(['a', 'b']);
  });

  it('knows its own temp names, and only those', () => {
    const tmp = tempPathFor('/x/index/abc');
    expect(isTempOf(tmp.split('/').pop()!, 'abc')).toBe(true);
    expect(isTempOf('abc.123.tmp', 'abc')).toBe(true);
    for (const other of ['abc.tmp', 'abc.x.tmp', 'abcd.123.tmp', 'abc.123.tmp.bak', 'abc.123.deadbeef0.tmp']) {
      expect(isTempOf(other, 'abc'), other).toBe(false);
    }
  });
});

describe('reading a lock', () => {
  it('tells nothing, a lock, and something that is not a lock (a link, a FIFO, a directory) apart', async () => {
    const dir = tempDir();
    expect(await readLockFile(join(dir, 'none'))).toBe('none');
    writeFileSync(join(dir, 'lock'), 'held');
    expect(await readLockFile(join(dir, 'lock'))).toMatchObject({ text: 'held' });
    symlinkSync(join(dir, 'lock'), join(dir, 'link'));
    expect(await readLockFile(join(dir, 'link'))).toBe('not-a-lock');
    execFileSync('mkfifo', [join(dir, 'fifo')]);
    expect(await readLockFile(join(dir, 'fifo'))).toBe('not-a-lock');
    mkdirSync(join(dir, 'dir'));
    expect(await readLockFile(join(dir, 'dir'))).toBe('not-a-lock');
  });

  it('breaks only the very lock that was judged stale', async () => {
    const dir = tempDir();
    const lock = join(dir, 'lock');
    writeFileSync(lock, 'old holder');
    const seen = await readLockFile(lock);
    writeFileSync(lock, 'new holder');
    expect(await breakLock(lock, seen)).toBe(true);
    expect(readFileSync(lock, 'utf8')).toBe('new holder');
    expect(await breakLock(lock, await readLockFile(lock))).toBe(true);
    expect(existsSync(lock)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses to break a directory standing where the lock belongs, and says so', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'lock'));
    await expect(breakLock(join(dir, 'lock'), 'not-a-lock')).rejects.toThrow(`${join(dir, 'lock')} is a directory`);
    expect(readdirSync(dir)).toEqual(['lock']);
  });
});
