import { execFileSync, spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runDevsup } from '../helpers/devsup.js';
import { trackPid } from '../helpers/procs.js';
import { tempDir } from '../helpers/tmp.js';

/** One line, no stack trace. */
function expectOneLine(stderr: string, re: RegExp): void {
  const lines = stderr.trim().split('\n');
  expect(lines[0]).toMatch(re);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('devsup CLI: bad input', () => {
  it('no command after -- is a usage error', async () => {
    const r = await runDevsup(['run'], tempDir());
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /^devsup: no command given; usage: devsup run/);
  });

  it("an empty command is a usage error, with or without --shell, not a supervisor waiting for nothing", async () => {
    for (const args of [['run', '--', ''], ['run', '--shell', '--', '  ']]) {
      const r = await runDevsup(args, tempDir());
      expect(r.code).toBe(2);
      expectOneLine(r.stderr, /^devsup: the command is empty; usage: devsup run/);
    }
  });

  it("an empty --watch path is a usage error", async () => {
    const r = await runDevsup(['run', '-w', '', '--', 'node', '-e', ''], tempDir());
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /^devsup: --watch needs a path, got an empty one/);
  });

  it('a named pipe as --config is refused, not read for ever', async () => {
    const dir = tempDir();
    const fifo = join(dir, 'devsup.config.json');
    execFileSync('mkfifo', [fifo]);
    const r = await runDevsup(['up', '--no-tui', '--config', fifo], dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a regular file \(a named pipe\)/);
  });

  it('an unknown option is a usage error', async () => {
    const r = await runDevsup(['run', '--bogus', '--', 'true'], tempDir());
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /unknown option '--bogus'/);
  });

  it('a malformed value is a usage error', async () => {
    const r = await runDevsup(['run', '--settle', 'abc', '--', 'true'], tempDir());
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /--settle <duration>.*expected a duration such as 500, 500ms, 2s, 1m.*"abc"/);
  });

  it('an unknown signal is a usage error', async () => {
    const r = await runDevsup(['run', '--signal', 'SIGNOPE', '--', 'true'], tempDir());
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /unknown signal "SIGNOPE"/);
  });

  it('a watch path that does not exist is a usage error', async () => {
    const r = await runDevsup(['run', '--watch', 'nope', '--', 'true'], tempDir());
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /^devsup: watch path does not exist: nope$/);
  });

  it('an unknown --clear preset is a usage error', async () => {
    const r = await runDevsup(['run', '--clear', 'pyhton', '--', 'true'], tempDir());
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /^devsup: unknown --clear preset "pyhton"/);
  });

  it('an unknown command is a usage error', async () => {
    const r = await runDevsup(['bogus'], tempDir());
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /unknown command 'bogus'/);
  });

  it('--version prints the version', async () => {
    const r = await runDevsup(['--version'], tempDir());
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('help piped into a reader that is already gone (`devsup run --help | head -1`) ends quietly, not with a stack trace', async () => {
    for (const args of [['run', '--help'], ['--help']]) {
      const p = spawn(process.execPath, ['--', BIN, ...args], { cwd: tempDir(), stdio: ['ignore', 'pipe', 'pipe'] });
      trackPid(p.pid);
      // Closed before devsup has booted, so its first write finds no reader.
      p.stdout.destroy();
      let stderr = '';
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((r) => p.on('exit', (c) => r(c)));
      expect(stderr, args.join(' ')).toBe('');
      expect(code, args.join(' ')).toBe(0);
    }
  });
});
