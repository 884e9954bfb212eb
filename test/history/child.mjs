// One of several processes hammering the same state dir, started by store-concurrency.test.ts:
//   node child.mjs <compiledDir> append|counter|counter-nolock|hold <stateDir> <name> <count> [maxBytes]
// It prints "ready", waits for a line on stdin so all processes start together, then works.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [dir, mode, stateDir, name, countText, maxBytesText] = process.argv.slice(2);
const count = Number(countText);
// The history's size limit; the default here is far above what the writers append.
const maxBytes = maxBytesText === undefined ? 1 << 30 : Number(maxBytesText);
const { appendRun } = await import(pathToFileURL(join(dir, 'history/store.js')).href);
const { withFileLock } = await import(pathToFileURL(join(dir, 'history/lock.js')).href);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

process.stdout.write('ready\n');
await new Promise((r) => process.stdin.once('data', r));
process.stdin.destroy();

const counterFile = join(stateDir, 'counter');
// Read, yield, write: without mutual exclusion concurrent increments get lost.
async function increment() {
  const v = Number(readFileSync(counterFile, 'utf8'));
  await sleep(1);
  writeFileSync(counterFile, String(v + 1));
}

if (mode === 'append') {
  for (let i = 0; i < count; i++) {
    const changedFiles = Array.from({ length: 90 }, (_, j) => `src/deeply/nested/module-${j}/${name}-gen-${i}-file-${j}.ts`);
    await appendRun(stateDir, {
      v: 1,
      worker: name,
      generation: i,
      codeId: `${name}:${i}`,
      changedFiles,
      startedAt: new Date().toISOString(),
      durationMs: i,
      exitCode: i % 3 === 0 ? 1 : 0,
      signal: null,
      result: i % 3 === 0 ? 'failed' : 'passed',
    }, { maxBytes });
  }
} else if (mode === 'counter') {
  for (let i = 0; i < count; i++) await withFileLock(join(stateDir, 'counter.lock'), increment);
} else if (mode === 'counter-nolock') {
  for (let i = 0; i < count; i++) await increment();
} else if (mode === 'hold') {
  await withFileLock(join(stateDir, 'history.jsonl.lock'), async () => {
    process.stdout.write('held\n');
    await new Promise(() => setInterval(() => {}, 1000));
  });
}
