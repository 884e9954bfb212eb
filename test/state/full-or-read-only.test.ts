import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appendRun } from '../../src/history/store.js';
import { StateError, STATE_EXIT_CODE } from '../../src/state/errors.js';
import { DevsupProcess } from '../helpers/devsup.js';
import { removeTempDirs, tempDir } from '../helpers/tmp.js';

afterAll(removeTempDirs);

/**
 * A small tmpfs of our own is the real thing for both faults: remounted read-only it gives EROFS,
 * filled up it gives ENOSPC. Mounting needs root (or CAP_SYS_ADMIN); elsewhere these tests skip.
 */
function canMount(): boolean {
  const probe = tempDir('devsup-mount-probe-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
  if (r.status !== 0) return false;
  spawnSync('umount', [probe], { stdio: 'ignore' });
  return true;
}

const mountable = canMount();
if (!mountable) console.warn('skipping: mounting a tmpfs is not allowed here (needs root), so EROFS/ENOSPC cannot be produced');

const mounted: string[] = [];

afterEach(() => {
  for (const m of mounted.splice(0)) {
    execFileSync('umount', [m]);
    rmdirSync(m);
  }
});

/** A project of one app on a fresh tmpfs of `size`. */
function project(size: string): string {
  const dir = join(tempDir('devsup-fs-'), 'proj');
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounted.push(dir);
  writeFileSync(join(dir, 'app.js'), "console.log('app ran');\n");
  return dir;
}

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

async function devsup(cwd: string, args: string[]): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const p = new DevsupProcess(args, { cwd });
  p.proc.stdin!.end();
  const { code } = await p.exit;
  return { code, stderr: p.text('stderr'), stdout: p.text('stdout') };
}

describe.skipIf(!mountable)('a .devsup that cannot be written', () => {
  it('read-only: says so and where, exits 73, starts nothing, writes nothing', async () => {
    const dir = project('256k');
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    const r = await devsup(dir, ['run', '--on-exit', 'quit', '--', 'node', 'app.js']);
    expect(r.code).toBe(STATE_EXIT_CODE);
    expect(r.stderr.trim()).toBe(`devsup: cannot write ${join(dir, '.devsup')}: the file system is read-only`);
    expect(r.stdout).not.toContain('app ran');
    expect(listing(dir)).toEqual(['app.js']);
  });

  it('read-only after an earlier run made .devsup: the lock it cannot take is named', async () => {
    const dir = project('256k');
    const first = await devsup(dir, ['run', '--on-exit', 'quit', '--', 'node', 'app.js']);
    expect(first.code).toBe(0);
    const before = listing(dir);
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    const r = await devsup(dir, ['run', '--on-exit', 'quit', '--', 'node', 'app.js']);
    expect(r.code).toBe(STATE_EXIT_CODE);
    expect(r.stderr.trim()).toBe(`devsup: cannot write ${join(dir, '.devsup', 'default.lock')}: the file system is read-only`);
    expect(listing(dir)).toEqual(before);
  });

  it('full: says so, exits 73, and leaves no empty .gitignore and no lock temp file', async () => {
    const dir = project('64k');
    // Fill every block; the write that does not fit fails, which is the point.
    spawnSync('sh', ['-c', `head -c 1000000 /dev/zero > ${join(dir, 'fill')}`], { stdio: 'ignore' });
    const r = await devsup(dir, ['run', '--on-exit', 'quit', '--', 'node', 'app.js']);
    expect(r.code).toBe(STATE_EXIT_CODE);
    expect(r.stderr.trim()).toBe(`devsup: cannot write ${join(dir, '.devsup', 'default.lock')}: no space left on the device`);
    expect(r.stdout).not.toContain('app ran');
    // The directory itself takes no blocks on tmpfs; nothing half-written is inside it.
    expect(listing(dir)).toEqual(['.devsup', 'app.js', 'fill']);
  });

  it('flake of a Python command on a read-only project: the same one line and exit code, no run started', async () => {
    const dir = project('256k');
    // Its own .devsup, so that one in a directory above (a shared /tmp) cannot be picked instead.
    mkdirSync(join(dir, '.devsup'), { mode: 0o700 });
    writeFileSync(join(dir, 'app.py'), "print('app ran')\n");
    execFileSync('mount', ['-o', 'remount,ro', dir]);
    const r = await devsup(dir, ['flake', '-n', '2', '--', 'python3', 'app.py']);
    expect(r.code).toBe(STATE_EXIT_CODE);
    expect(r.stderr.trim()).toBe(`devsup: cannot write ${join(dir, '.devsup', 'pycache')}: the file system is read-only`);
    expect(r.stdout).not.toContain('app ran');
    expect(listing(dir)).toEqual(['.devsup', 'app.js', 'app.py']);
  });

  it('full while the history is appended to: the record is refused whole, the file left as it was', async () => {
    const dir = project('64k');
    const state = join(dir, '.devsup');
    const rec = (files: string[]) => ({
      v: 1 as const,
      worker: 'tests',
      generation: 1,
      codeId: '0123456789',
      changedFiles: files,
      startedAt: new Date().toISOString(),
      durationMs: 5,
      exitCode: 0,
      signal: null,
      result: 'passed' as const,
    });
    await appendRun(state, rec(['a.py']));
    const before = readFileSync(join(state, 'history.jsonl'), 'utf8');
    // One page left, which the lock file takes: the record then fits only in what is left of the
    // history's last page, so its write starts and fails part way.
    const fs = statfsSync(dir);
    writeFileSync(join(dir, 'fill'), Buffer.alloc(fs.bavail * fs.bsize - fs.bsize));
    const err = await appendRun(state, rec(Array.from({ length: 2000 }, (_, i) => `src/module_${i}.py`))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateError);
    expect((err as Error).message).toBe(`cannot write ${join(state, 'history.jsonl')}: no space left on the device`);
    expect(readFileSync(join(state, 'history.jsonl'), 'utf8')).toBe(before);
    expect(readdirSync(state).sort()).toEqual(['history.jsonl']);
  });
});
