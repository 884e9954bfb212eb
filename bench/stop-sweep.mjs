// What the token sweep adds to stopping a tree on a machine with many processes.
// Usage: npm run build && node bench/stop-sweep.mjs [--procs 2000] [--rounds 15]
// Starts N sleeping processes (in a process group of their own, killed at the end), then stops a
// small child tree again and again: with its token (the default) and without (the token
// forgotten first, which is how a stop behaved before tokens). Run once with the sleepers started
// before the child (the usual case: only processes younger than the tree are read) and once with
// them started after it (the worst case: every one of them has its environment read).
import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';

const dist = new URL('../dist/', import.meta.url);
const { spawnChild } = await import(new URL('process/spawn.js', dist).href);
const { stopTree } = await import(new URL('process/stop-tree.js', dist).href);
const { forgetToken } = await import(new URL('process/token.js', dist).href);
const { findTokenHolders } = await import(new URL('process/sweep.js', dist).href);

const { values } = parseArgs({ options: { procs: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '15' } } });
const N = Number(values.procs);
const ROUNDS = Number(values.rounds);
const ready = new URL('../test/fixtures/ready.mjs', import.meta.url).pathname;
const count = () => import('node:fs').then((fs) => fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length);

async function sleepers() {
  const before = await count();
  const g = spawn('bash', ['-c', `for i in $(seq ${N}); do sleep 900 & done; wait`], { detached: true, stdio: 'ignore' });
  for (let i = 0; i < 600 && (await count()) < before + N; i++) await new Promise((r) => setTimeout(r, 100));
  return g;
}

async function child() {
  const c = await spawnChild({ command: [process.execPath, ready], cwd: process.cwd(), env: {}, stdin: 'ignore', output: 'pipe' });
  await new Promise((resolve) => {
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
      if (out.includes('READY')) resolve();
    });
  });
  c.stderr.resume();
  return c;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function round(withToken) {
  const c = await child();
  if (!withToken) forgetToken(c.id);
  const r = await stopTree(c.id, { graceMs: 3000 });
  return r.durationMs;
}

async function measure(label) {
  const runs = { token: [], none: [] };
  for (let i = 0; i < ROUNDS; i++) {
    runs.token.push(await round(true));
    runs.none.push(await round(false));
  }
  const t0 = performance.now();
  await findTokenHolders('0'.repeat(32));
  const sweep = performance.now() - t0;
  console.log(`${label}: ${await count()} processes; stop median ${median(runs.token).toFixed(1)} ms with the token sweep, ${median(runs.none).toFixed(1)} ms without; one sweep alone ${sweep.toFixed(1)} ms`);
}

await measure('baseline');
const old = await sleepers();
try {
  await measure(`${N} sleepers older than the tree`);
  // Sleepers younger than the tree: every one is a candidate whose environment is read.
  const c = await child();
  const young = await sleepers();
  try {
    const t0 = performance.now();
    const r = await stopTree(c.id, { graceMs: 3000 });
    const t1 = performance.now();
    await findTokenHolders(c.token, undefined, { notBefore: c.id.start });
    const sweep = performance.now() - t1;
    console.log(`${N * 2} processes, ${N} younger than the tree: stop ${r.durationMs.toFixed(1)} ms (${(t1 - t0).toFixed(1)}), one sweep reading ${N} environments ${sweep.toFixed(1)} ms`);
  } finally {
    process.kill(-young.pid, 'SIGKILL');
  }
} finally {
  process.kill(-old.pid, 'SIGKILL');
}
