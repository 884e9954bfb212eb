import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { clockTicks, pageSize, residentBytes } from '../../src/process/proc-start.js';

describe('clockTicks', () => {
  it.runIf(process.platform === 'linux')('reads the same USER_HZ as getconf, without running it', () => {
    const getconf = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    expect(clockTicks()).toBe(getconf);
  });
});

describe('pageSize and residentBytes', () => {
  it.runIf(process.platform === 'linux')('read the page size getconf reports, and this process as resident', () => {
    const getconf = Number(execFileSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).trim());
    expect(pageSize()).toBe(getconf);
    const rss = residentBytes(process.pid)!;
    // Close to what Node itself measures a moment later (the heap may grow in between).
    expect(Math.abs(rss - process.memoryUsage.rss())).toBeLessThan(16 * 1024 * 1024);
    expect(residentBytes(999_999_999)).toBeUndefined();
  });
});
