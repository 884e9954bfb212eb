import { describe, expect, it } from 'vitest';
import { runDevsup } from '../helpers/devsup.js';
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
});
