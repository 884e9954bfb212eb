import { afterAll, afterEach, expect } from 'vitest';
import { reapTracked } from './procs.js';
import { removeTempDirs } from './tmp.js';

// Warnings and unhandled rejections are bugs: make them fail the run instead of scrolling by.
process.on('warning', (w) => {
  throw w;
});
process.on('unhandledRejection', (reason) => {
  throw reason instanceof Error ? reason : new Error(String(reason));
});

afterEach(() => {
  const survivors = reapTracked();
  expect(survivors, 'processes left running by the test').toEqual([]);
});

afterAll(() => {
  removeTempDirs();
});
