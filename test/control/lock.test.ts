import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, readLock } from '../../src/control/lock.js';
import { controlPaths, findProjectRoot, fitsSunPath, runtimeSocket } from '../../src/state/paths.js';
import { procId } from '../../src/process/proc-start.js';
import { DevsupError } from '../../src/core/errors.js';
import { isAlive as pidAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

function lockFile(root: string): string {
  const p = controlPaths(root, 'default');
  mkdirSync(p.dir, { recursive: true });
  return p.lock;
}

const fields = (root: string) => ({ socketPath: join(root, '.devsup/default.sock'), root, name: 'default' });

async function sleeper(): Promise<{ pid: number; start: string; kill(): Promise<void> }> {
  const p = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  trackPid(p.pid);
  const id = await waitFor(() => procId(p.pid!), 'sleeper start time');
  return {
    ...id,
    kill: async () => {
      p.kill('SIGKILL');
      await waitFor(() => !pidAlive(id.pid), 'sleeper gone');
    },
  };
}

describe('control lock', () => {
  it('is written whole, names this process and its socket, and is removed on release', async () => {
    const root = tempDir();
    const path = lockFile(root);
    const lock = await acquireLock(path, fields(root));
    const info = await readLock(path);
    expect(info).toMatchObject({ pid: process.pid, start: procId(process.pid)!.start, socketPath: fields(root).socketPath });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await lock.release();
    expect(existsSync(path)).toBe(false);
  });

  it('refuses while the owner lives, with its pid in the message and exit code 2', async () => {
    const root = tempDir();
    const path = lockFile(root);
    const owner = await sleeper();
    writeFileSync(path, JSON.stringify({ v: 1, pid: owner.pid, start: owner.start, ...fields(root) }));
    const err = await acquireLock(path, fields(root)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevsupError);
    expect((err as DevsupError).message).toBe(`another devsup is already running for this project (pid ${owner.pid}); stop it or use --name`);
    expect((err as DevsupError).exitCode).toBe(2);
    // The live owner's lock is untouched.
    expect((await readLock(path))?.pid).toBe(owner.pid);
    await owner.kill();
  });

  it('takes over a lock whose owner died, whose pid now belongs to another process, or that is garbage', async () => {
    const root = tempDir();
    const path = lockFile(root);
    const dead = await sleeper();
    await dead.kill();
    const other = await sleeper();
    for (const stale of [
      JSON.stringify({ v: 1, pid: dead.pid, start: dead.start, ...fields(root) }),
      // Same pid as a live process, but not the process that wrote the lock.
      JSON.stringify({ v: 1, pid: other.pid, start: `${other.start}0`, ...fields(root) }),
      '{"half',
    ]) {
      writeFileSync(path, stale);
      const lock = await acquireLock(path, fields(root));
      expect((await readLock(path))?.pid).toBe(process.pid);
      await lock.release();
    }
    await other.kill();
  });

  it('lets exactly one of many simultaneous takers win a stale lock', async () => {
    const root = tempDir();
    const path = lockFile(root);
    writeFileSync(path, JSON.stringify({ v: 1, pid: 999_999_999, start: '1', ...fields(root) }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireLock(path, fields(root))));
    const won = results.filter((r) => r.status === 'fulfilled');
    // All are this process, so the losers see a live owner: exactly one lock was created.
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toMatch(/already running .*pid \d+/);
    await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireLock>>>).value.release();
  });
});

describe('control paths', () => {
  it('keeps a short socket path in the project and moves a long one to the runtime dir', () => {
    const short = controlPaths('/srv/app', 'default');
    expect(short.localSocket).toBe('/srv/app/.devsup/default.sock');
    expect(fitsSunPath(short.localSocket)).toBe(true);
    const long = controlPaths(`/srv/${'x'.repeat(120)}`, 'default');
    expect(fitsSunPath(long.localSocket)).toBe(false);
    const rt = tempDir();
    const sock = runtimeSocket(long, { XDG_RUNTIME_DIR: rt });
    expect(sock).toMatch(new RegExp(`^${rt}/devsup/[0-9a-f]{16}\\.sock$`));
    expect(runtimeSocket(long, {})).toMatch(/^\/tmp\/devsup-\d+\/[0-9a-f]{16}\.sock$/);
    // Root and name both pick the socket.
    expect(runtimeSocket(controlPaths(long.root, 'other'), { XDG_RUNTIME_DIR: rt })).not.toBe(sock);
  });

  it('rejects names that are not plain file names', () => {
    for (const bad of ['../x', 'a/b', '', '.hidden', 'x'.repeat(65)]) expect(() => controlPaths('/p', bad)).toThrow(/invalid supervisor name/);
  });

  it('finds the project from a subdirectory by its lock, else uses the cwd', () => {
    const root = tempDir();
    const sub = join(root, 'src/deep');
    mkdirSync(sub, { recursive: true });
    expect(findProjectRoot(sub)).toBe(sub);
    writeFileSync(lockFile(root), '{}');
    expect(findProjectRoot(sub)).toBe(root);
    expect(findProjectRoot(sub, 'other')).toBe(sub);
  });
});
