import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../../src/cli/main.js';

afterEach(() => vi.restoreAllMocks());

describe('exitCodeFor', () => {
  it('calls a shortage of file descriptors what it is, with the fix, not a bug of devsup', () => {
    const said: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (said.push(String(s)), true));
    const err = Object.assign(new Error("EMFILE: too many open files, open '/x/dist/bundle/stop-tree.js'"), { code: 'EMFILE' });
    expect(exitCodeFor(err)).toBe(71);
    expect(said.join('')).toBe('devsup: too many open files (EMFILE): raise the limit with `ulimit -n` and try again\n');
  });

  it('keeps 70 and "internal error" for anything else unexpected', () => {
    const said: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (said.push(String(s)), true));
    expect(exitCodeFor(new Error('boom'))).toBe(70);
    expect(said.join('')).toContain('devsup: internal error: boom');
  });
});
