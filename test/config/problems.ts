import { expect } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { validateConfig } from '../../src/config/check.js';

/** The problems validateConfig reports, failing the test if it does not throw a ConfigError. */
export function problemsOf(raw: unknown, baseDir: string): string[] {
  try {
    validateConfig(raw, baseDir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('expected the config to be rejected');
}

/** A worker that passes every check in a directory that exists. */
export function worker(name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name, cmd: ['node', 'app.js'], ...extra };
}
