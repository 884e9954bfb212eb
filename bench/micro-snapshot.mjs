#!/usr/bin/env node
// Cost of a content snapshot of the big tree, done the way src/watch/snapshot.ts does it and the
// ways proposed instead, on the same file list. Each variant runs twice; the second (warm) run is
// reported, since the page cache holds the tree during a session either way.
//
//   node bench/micro-snapshot.mjs [--tree DIR] [--quick]
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { open, readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTemp, removeAllTemps, scaleProject, SCALE_FULL, SCALE_QUICK } from './projects.mjs';

const args = process.argv.slice(2);
const treeArg = args.includes('--tree') ? args[args.indexOf('--tree') + 1] : undefined;
process.on('exit', removeAllTemps);
const dir = treeArg ?? makeTemp('micro');
if (!treeArg) scaleProject(dir, args.includes('--quick') ? SCALE_QUICK : SCALE_FULL);

const SKIP = new Set(['node_modules', '.git']);
function listSync(root) {
  const files = [];
  const todo = [root];
  while (todo.length > 0) {
    const d = todo.pop();
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIP.has(e.name)) todo.push(p);
      } else if (e.isFile() && /\.(js|mjs|cjs|json)$/.test(e.name)) files.push(p);
    }
  }
  return files;
}

async function listAsync(root) {
  const files = [];
  const visit = async (d) => {
    const entries = await readdir(d, { withFileTypes: true });
    const subs = [];
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIP.has(e.name)) subs.push(visit(p));
      } else if (e.isFile() && /\.(js|mjs|cjs|json)$/.test(e.name)) files.push(p);
    }
    await Promise.all(subs);
  };
  await visit(root);
  return files;
}

async function pool(items, n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

const files = listSync(dir);

/** What snapshot.ts does per file: bigint stat, FileHandle open, 64 KB reads until EOF, close. */
async function current() {
  await pool(files, 32, async (p) => {
    await stat(p, { bigint: true });
    const fh = await open(p, 'r');
    const h = createHash('sha1');
    const buf = Buffer.allocUnsafe(64 * 1024);
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
    }
    h.digest('hex');
    await fh.close();
  });
}

async function promisesReadFile() {
  await pool(files, 32, async (p) => {
    await stat(p);
    createHash('sha1').update(await readFile(p)).digest('hex');
  });
}

/** Synchronous in slices of 500 files, handing the event loop back between slices. */
async function syncSlices() {
  for (let i = 0; i < files.length; i += 500) {
    for (const p of files.slice(i, i + 500)) {
      statSync(p);
      createHash('sha1').update(readFileSync(p)).digest();
    }
    await new Promise((r) => setImmediate(r));
  }
}

async function statOnlyAsyncBigint() {
  await pool(files, 32, (p) => stat(p, { bigint: true }));
}

async function statOnlySync() {
  for (let i = 0; i < files.length; i += 500) {
    for (const p of files.slice(i, i + 500)) statSync(p);
    await new Promise((r) => setImmediate(r));
  }
}

const variants = [
  ['walk: async readdir (as walk.ts, without the filter)', () => listAsync(dir)],
  ['walk: readdirSync', async () => listSync(dir)],
  ['hash all: as snapshot.ts (bigint stat + FileHandle reads, 32 at once)', current],
  ['hash all: fs.promises stat + readFile, 32 at once', promisesReadFile],
  ['hash all: statSync + readFileSync + sha1, 500-file slices', syncSlices],
  ['re-stat all: async bigint stat, 32 at once (what every re-snapshot does)', statOnlyAsyncBigint],
  ['re-stat all: statSync, 500-file slices', statOnlySync],
];
process.stdout.write(`${files.length} files\n`);
for (const [name, fn] of variants) {
  let last = 0;
  for (let i = 0; i < 2; i++) {
    const t = performance.now();
    await fn();
    last = performance.now() - t;
  }
  process.stdout.write(`${String(Math.round(last)).padStart(7)} ms  ${name}\n`);
}
