// Preloaded into devsup by bench/profile.mjs (`node --import ./bench/timing-hook.mjs`): wraps
// the methods where a start and a restart spend their time and counts file system calls, so the
// profile can say which phase costs what without touching devsup's source. Prints `[timing]` JSON
// lines on stderr.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const t0 = performance.now();
// `mono` is CLOCK_MONOTONIC in microseconds, the clock V8's CPU profile timestamps use, so the
// profile can be cut into the same phases.
const mono = () => Number(process.hrtime.bigint() / 1000n);
const emit = (o) => process.stderr.write(`[timing] ${JSON.stringify({ at: Math.round(performance.now()), ...o })}\n`);

// File system calls, by kind, since the last phase boundary.
const calls = {};
const counted = (name, fn) =>
  async function (...args) {
    const c = (calls[name] ??= { n: 0 });
    c.n++;
    return fn.apply(this, args);
  };
for (const name of ['stat', 'lstat', 'readdir', 'open', 'realpath', 'readFile']) {
  fs.promises[name] = counted(name, fs.promises[name]);
}
syncBuiltinESMExports();

/** MB: JS heap in use, memory outside it held by JS objects (buffers), and the process total. */
function memory() {
  const m = process.memoryUsage();
  const mb = (b) => Math.round(b / 2 ** 20);
  return { heapUsed: mb(m.heapUsed), heapTotal: mb(m.heapTotal), external: mb(m.external), rss: mb(m.rss) };
}

function takeCalls() {
  const out = {};
  for (const [k, v] of Object.entries(calls)) {
    out[k] = v.n;
    v.n = 0;
  }
  return out;
}

async function wrap(file, cls, methods, describe = () => ({})) {
  const mod = await import(join(dist, file));
  const proto = mod[cls]?.prototype;
  const tag = `${file.replace(/\.js$/, '')}:${cls}`;
  if (!proto) return emit({ error: `${cls} not found in ${file}` });
  for (const m of methods) {
    const orig = proto[m];
    if (typeof orig !== 'function') {
      emit({ error: `${cls}.${m} not found` });
      continue;
    }
    proto[m] = async function (...args) {
      const s = performance.now();
      const from = mono();
      takeCalls();
      try {
        const r = await orig.apply(this, args);
        emit({ fn: `${tag}.${m}`, ms: Math.round(performance.now() - s), from, to: mono(), fs: takeCalls(), mem: memory(), ...describe(m, r) });
        return r;
      } catch (err) {
        emit({ fn: `${tag}.${m}`, ms: Math.round(performance.now() - s), error: String(err) });
        throw err;
      }
    };
  }
}

const snapInfo = (m, r) => (r && r.files ? { files: r.files.size } : {});
await wrap('watch/snapshot.js', 'Snapshotter', ['take', 'update'], snapInfo);
await wrap('watch/supervise.js', 'Supervisor', ['start']);
await wrap('watch/tree.js', 'WatchedTree', ['start'], snapInfo);
await wrap('watch/settle.js', 'Settler', ['check']);
await wrap('worker/worker.js', 'Worker', ['changed', 'launch', 'stopCurrent']);
await wrap('supervisor/supervisor.js', 'Supervisor', ['startAll']);
emit({ fn: 'hook-loaded', ms: Math.round(performance.now() - t0) });

// The heap between phases, so a profile can tell JS objects from native memory at rest.
setInterval(() => emit({ fn: 'memory', mem: memory() }), 2000).unref();
