import { describe, expect, it } from 'vitest';
import { DevsupError, UsageError } from '../src/core/errors.js';

describe('errors', () => {
  it('usage errors exit with 2 and keep their message', () => {
    const e = new UsageError('no command given');
    expect(e).toBeInstanceOf(DevsupError);
    expect(e.exitCode).toBe(2);
    expect(e.message).toBe('no command given');
  });
});
