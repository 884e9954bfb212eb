import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive as pidAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { DevsupError } from '../../src/core/errors.js';
import { isAlive, readStat } from '../../src/process/proc-start.js';
import { SpawnError, spawnChild, type SpawnSpec } from '../../src/process/spawn.js';
import { stopTree } from '../../src/process/stop-tree.js';
import { collect, fixture } from './output.js';

const spec = (command: string[] | string, extra: Partial<SpawnSpec> = {}): SpawnSpec => ({
  command,
  cwd: process.cwd(),
  env: {},
  stdin: 'ignore',
  output: 'pipe',
  ...extra,
});

async function spawnFailure(s: SpawnSpec): Promise<SpawnError> {
  const err = await spawnChild(s).then(
    (c) => {
      trackPid(c.pid);
      return new Error(`started pid ${c.pid}`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SpawnError);
  expect(err).toBeInstanceOf(DevsupError);
  return err as SpawnError;
}

afterEach(() => {
  delete process.env.DEVSUP_TEST_REMOVED;
});

describe('spawnChild', () => {
  it('runs an argv command in its own process group and reports the exit code', async () => {
    const c = await spawnChild(spec(['node', fixture('exit-with.mjs'), '3']));
    trackPid(c.pid);
    const out = collect(c.stdout);
    const err = collect(c.stderr);
    const stat = readStat(c.pid);
    expect(stat?.pgid).toBe(c.pid);
    expect(c.id.pid).toBe(c.pid);

    const exit = await c.exited;
    expect(exit).toMatchObject({ code: 3, signal: null });
    expect(exit.durationMs).toBeGreaterThan(0);
    await waitFor(() => out.ended() && err.ended(), 'the pipes to close');
    expect(out.text()).toBe('EXITING with=3\n');
    expect(err.text()).toBe('EXITING stderr\n');
  });

  it('reports death by signal', async () => {
    const c = await spawnChild(spec(['node', fixture('exit-with.mjs'), 'SIGSEGV'], { output: 'inherit' }));
    trackPid(c.pid);
    expect(c.stdout).toBeUndefined();
    expect(await c.exited).toMatchObject({ code: null, signal: 'SIGSEGV' });
  });

  it('runs a string through the shell, with env merged onto ours and undefined removing a variable', async () => {
    process.env.DEVSUP_TEST_REMOVED = 'still here';
    const c = await spawnChild(
      spec('echo "gen=$DEVSUP_GENERATION removed=${DEVSUP_TEST_REMOVED-gone} home=${HOME:+set}"; exit 4', {
        env: { DEVSUP_GENERATION: '7', DEVSUP_TEST_REMOVED: undefined },
      }),
    );
    trackPid(c.pid);
    const out = collect(c.stdout);
    expect(await c.exited).toMatchObject({ code: 4, signal: null });
    await waitFor(() => out.ended(), 'stdout to close');
    expect(out.text()).toBe('gen=7 removed=gone home=set\n');
  });

  it('keeps output that nobody read before the process exited', async () => {
    const c = await spawnChild(spec(['node', fixture('exit-with.mjs'), '5']));
    trackPid(c.pid);
    // By now execa has long resumed any stream left unread, which would drop its data.
    await c.exited;
    const out = collect(c.stdout);
    await waitFor(() => out.ended(), 'stdout to close');
    expect(out.text()).toBe('EXITING with=5\n');
  });

  it('delivers a flood of output completely and in order', async () => {
    const c = await spawnChild(spec(['node', fixture('flood.mjs'), '50000']));
    trackPid(c.pid);
    let next = 1;
    let bad = '';
    let rest = '';
    c.stdout!.setEncoding('utf8');
    c.stdout!.on('data', (d: string) => {
      const lines = (rest + d).split('\n');
      rest = lines.pop()!;
      for (const l of lines) if (!bad && l !== `LINE ${next++} ${'x'.repeat(64)}`) bad = l;
    });
    const ended = new Promise((r) => c.stdout!.once('end', r));
    expect(await c.exited).toMatchObject({ code: 0 });
    await ended;
    expect(bad).toBe('');
    expect(next - 1).toBe(50000);
  });

  it('passes env through', async () => {
    const c = await spawnChild(spec(['node', fixture('ready.mjs')], { env: { DEVSUP_GENERATION: '12' } }));
    trackPid(c.pid);
    const m = await collect(c.stdout).line(/^READY pid=(\d+) gen=(\S+)$/);
    expect(m.slice(1)).toEqual([String(c.pid), '12']);
    await stopTree(c.id);
  });

  it('feeds stdin when asked to', async () => {
    const c = await spawnChild(spec(['cat'], { stdin: 'pipe' }));
    trackPid(c.pid);
    const out = collect(c.stdout);
    c.stdin!.end('hello\n');
    expect(await c.exited).toMatchObject({ code: 0 });
    await waitFor(() => out.ended(), 'stdout to close');
    expect(out.text()).toBe('hello\n');
  });

  it('resolves exited when the process exits, although a grandchild still holds its stdout', async () => {
    const c = await spawnChild(spec(['node', fixture('stubborn.mjs')]));
    trackPid(c.pid);
    const out = collect(c.stdout);
    const gpid = Number((await out.line(/^READY pid=\d+ grandchild=(\d+)$/))[1]);
    trackPid(gpid);

    process.kill(c.pid, 'SIGKILL');
    expect(await c.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(pidAlive(gpid)).toBe(true);
    expect(out.ended()).toBe(false);

    // The orphan is still in the group, which outlives its leader.
    const r = await stopTree(c.pid, { signal: 'SIGKILL' });
    expect(r).toMatchObject({ treeSize: 1, gaveUp: false });
    expect(pidAlive(gpid)).toBe(false);
    await waitFor(() => out.ended(), 'stdout to close once the grandchild is gone');
  });

  it('treats exit code 127 from the shell as an ordinary exit', async () => {
    const c = await spawnChild(spec('devsup-no-such-command-xyz --flag'));
    trackPid(c.pid);
    const err = collect(c.stderr);
    expect(await c.exited).toMatchObject({ code: 127, signal: null });
    await waitFor(() => err.ended(), 'stderr to close');
    expect(err.text()).toMatch(/not found/);
  });

  it('rejects a command that is not found', async () => {
    const e = await spawnFailure(spec(['devsup-no-such-command-xyz', '--flag']));
    expect(e.message).toBe('command not found: devsup-no-such-command-xyz');
    expect(e.reason).toBe('not-found');
  });

  it('rejects a file that is not executable', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.sh'), '#!/bin/sh\necho hi\n');
    chmodSync(join(dir, 'x.sh'), 0o644);
    const e = await spawnFailure(spec(['./x.sh'], { cwd: dir }));
    expect(e.message).toBe('permission denied: ./x.sh');
    expect(e.reason).toBe('permission');
  });

  it('rejects a working directory that does not exist or is a file, also for shell strings', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'file'), '');
    expect((await spawnFailure(spec(['node', '-e', '1'], { cwd: '/no/such' }))).message).toBe(
      'working directory does not exist: /no/such',
    );
    expect((await spawnFailure(spec('echo hi', { cwd: '/no/such' }))).reason).toBe('cwd');
    expect((await spawnFailure(spec(['node'], { cwd: join(dir, 'file') }))).message).toBe(
      `working directory is not a directory: ${join(dir, 'file')}`,
    );
  });

  it('rejects an empty command', async () => {
    expect((await spawnFailure(spec([]))).message).toBe('no command given');
    expect((await spawnFailure(spec('  '))).message).toBe('no command given');
  });

  it('gives an identity that isAlive accepts while the child runs', async () => {
    const c = await spawnChild(spec(['node', fixture('ready.mjs')]));
    trackPid(c.pid);
    await collect(c.stdout).line(/^READY/);
    expect(isAlive(c.id)).toBe(true);
    await stopTree(c.id);
    await c.exited;
    expect(isAlive(c.id)).toBe(false);
  });
});
