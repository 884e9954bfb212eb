import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { clockTicks } from '../../src/process/proc-start.js';

describe('clockTicks', () => {
  it.runIf(process.platform === 'linux')('reads the same USER_HZ as getconf, without running it', () => {
    const getconf = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    expect(clockTicks()).toBe(getconf);
  });
});
