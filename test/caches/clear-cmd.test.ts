import { readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runClearCommand } from '../../src/caches/clear.js';
import { isAlive, trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

/** The pid a command wrote to `file`, tracked so a survivor fails the test. */
function trackedPidFrom(file: string): number {
  const pid = Number(readFileSync(file, 'utf8').trim());
  expect(pid).toBeGreaterThan(0);
  trackPid(pid);
  return pid;
}

describe('runClearCommand', () => {
  it('runs through the shell in cwd and returns both output streams', async () => {
    const dir = tempDir();
    const res = await runClearCommand('echo out; echo err >&2; pwd', dir);
    expect(res.ok).toBe(true);
    expect(res.code).toBe(0);
    expect(res.output).toContain('out\n');
    expect(res.output).toContain('err\n');
    expect(res.output).toContain(realpathSync(dir));
  });

  it('reports a failing command without throwing', async () => {
    const res = await runClearCommand('echo partial; exit 3', tempDir());
    expect(res).toMatchObject({ ok: false, code: 3 });
    expect(res.output).toContain('partial');
  });

  it('reports a missing program with the shell’s exit code', async () => {
    const res = await runClearCommand('devsup-no-such-program-xyz', tempDir());
    expect(res).toMatchObject({ ok: false, code: 127 });
    expect(res.output).toMatch(/not found/);
  });

  it('reports a missing working directory without throwing', async () => {
    const cwd = join(tempDir(), 'gone');
    const res = await runClearCommand('true', cwd);
    expect(res).toMatchObject({ ok: false, code: null });
    expect(res.output).toContain(cwd);
  });

  it('stops the whole process group when the time limit passes', async () => {
    const dir = tempDir();
    const started = Date.now();
    const res = await runClearCommand('sleep 30 & echo $! > pid; wait', dir, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res).toMatchObject({ ok: false, code: null });
    expect(res.output).toContain('timed out after 300 ms');
    const pid = trackedPidFrom(join(dir, 'pid'));
    await waitFor(() => !isAlive(pid), 'the background sleep to die');
  });

  it('uses SIGKILL when the command ignores SIGTERM', async () => {
    const dir = tempDir();
    const started = Date.now();
    const res = await runClearCommand("trap '' TERM; sleep 30 & echo $! > pid; wait", dir, {
      timeoutMs: 300,
      killGraceMs: 300,
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res).toMatchObject({ ok: false, code: null });
    const pid = trackedPidFrom(join(dir, 'pid'));
    await waitFor(() => !isAlive(pid), 'the TERM-ignoring sleep to die');
  });

  it('does not hang on a background process that keeps its output pipe open', async () => {
    const dir = tempDir();
    const started = Date.now();
    const res = await runClearCommand('echo cleared; sleep 30 & echo $! > pid', dir, { timeoutMs: 20_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(res).toMatchObject({ ok: true, code: 0 });
    expect(res.output).toContain('cleared');
    expect(res.output).toContain('background processes');
    const pid = trackedPidFrom(join(dir, 'pid'));
    await waitFor(() => !isAlive(pid), 'the pipe-holding sleep to die');
  });
});
