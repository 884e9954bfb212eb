#!/usr/bin/env node
// Where devsup spends its time. Three parts:
//   1. module loading for `--version` and `run`;
//   2. one restart in a two-file project, cut into phases (settle, snapshot, stop, launch, app boot);
//   3. the big tree under --cpu-prof: start, a few deep edits, phases with file system call
//      counts and memory, and the functions that took the CPU samples in each phase.
// The phases come from bench/timing-hook.mjs, preloaded into devsup; devsup's source is untouched.
//
//   node bench/profile.mjs [--quick] [--only modules,small,tree] [--tree DIR] [--edits N] [--save FILE.cpuprofile]
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clockTicks, memoryKb, readStat } from './proc.mjs';
import { basicProject, libSource, makeTemp, modSource, removeAllTemps, removeTemp, resetScale, scaleProject, SCALE_FULL, SCALE_QUICK } from './projects.mjs';
import { median } from './stats.mjs';
import { DEVSUP_BIN, EXT, REPO, ToolRun, emergencyKill, envFor, killReported } from './tools.mjs';

const args = process.argv.slice(2);
const value = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const quick = args.includes('--quick');
const only = value('--only')?.split(',') ?? ['modules', 'small', 'tree'];
const edits = Number(value('--edits') ?? (quick ? 1 : 3));
const save = value('--save');

let cleaned = false;
const cleanup = () => {
  if (cleaned) return;
  cleaned = true;
  emergencyKill();
  removeAllTemps();
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => (cleanup(), process.exit(130)));

const out = (s = '') => process.stdout.write(`${s}\n`);
const ms = (v) => (Number.isFinite(v) ? `${Math.round(v)} ms` : '–');
const mono = () => Number(process.hrtime.bigint() / 1000n);
const hook = pathToFileURL(join(REPO, 'bench', 'timing-hook.mjs')).href;
// The hook wraps classes of dist/'s separate modules: devsup must run those, not dist/bundle.
process.env.DEVSUP_UNBUNDLED = '1';
out(`Load average at start: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
out();

// ---- 1. module loading ----------------------------------------------------------------------

function wall(argv) {
  const t = performance.now();
  spawnSync(argv[0], argv.slice(1), { stdio: 'ignore', env: envFor(), timeout: 20_000 });
  return performance.now() - t;
}

function importTime(spec, n) {
  const code = `const t=performance.now();await import(${JSON.stringify(spec)});process.stdout.write(String(performance.now()-t))`;
  const xs = [];
  for (let i = 0; i < n; i++) {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: REPO, encoding: 'utf8', env: envFor(), timeout: 20_000 });
    xs.push(Number(r.stdout));
  }
  return median(xs);
}

if (only.includes('modules')) {
  const n = quick ? 3 : 7;
  out('## 1. Module loading');
  out();
  const bare = median(Array.from({ length: n }, () => wall([process.execPath, '-e', '0'])));
  const version = median(Array.from({ length: n }, () => wall([DEVSUP_BIN, '--version'])));
  out(`- \`node -e 0\`: ${ms(bare)}; \`devsup --version\`: ${ms(version)} (${ms(version - bare)} above bare node)`);
  const dist = (p) => pathToFileURL(join(REPO, 'dist', p)).href;
  const imports = [
    ['dist/cli/main.js (all --version loads)', dist('cli/main.js')],
    ['dist/cli/run/action.js (what `run` adds, with its dependencies)', dist('cli/run/action.js')],
    ['dist/watch/watcher.js', dist('watch/watcher.js')],
    ['dist/process/spawn.js', dist('process/spawn.js')],
    ['execa', 'execa'],
    ['chokidar', 'chokidar'],
    ['@parcel/watcher', '@parcel/watcher'],
    ['ps-list', 'ps-list'],
    ['picomatch', 'picomatch'],
    ['ignore', 'ignore'],
    ['commander', 'commander'],
  ];
  for (const [label, spec] of imports) out(`- import ${label}: ${ms(importTime(spec, n))} (fresh process, median of ${n})`);
  out();
}

// ---- shared: run devsup with the hook ----------------------------------------------------------

function devsupRun(dir, extraNode = []) {
  // The V8 flag of bin/devsup.js's #! line, which is bypassed when node is named explicitly.
  const argv = [process.execPath, '--max-semi-space-size=1', ...extraNode, '--import', hook, DEVSUP_BIN, 'run', '--json', '--settle', '100', '--ext', EXT, '--', 'node', 'app.js'];
  const timings = [];
  const run = new ToolRun(argv, dir, { label: 'devsup' });
  run.on('line', (stream, text) => {
    if (text.startsWith('[timing] ')) timings.push(JSON.parse(text.slice(9)));
  });
  run.start();
  return { run, timings };
}

/** Phases of one restart, from the write to the app's READY, on the shared monotonic clock. */
function restartPhases(timings, w0, readyMono) {
  const after = (fn) => timings.find((t) => t.fn === fn && t.from >= w0);
  const check = after('watch/settle:Settler.check');
  const take = after('watch/snapshot:Snapshotter.update') ?? after('watch/snapshot:Snapshotter.take');
  const stop = after('worker/worker:Worker.stopCurrent');
  const launch = after('worker/worker:Worker.launch');
  if (!check || !take || !stop || !launch) return undefined;
  const d = (a, b) => (b - a) / 1000;
  return {
    'write → settle check (settle + batching)': d(w0, check.from),
    'settle check (mtime look)': d(check.from, check.to),
    'check → snapshot start': d(check.to, take.from),
    'snapshot (stat + hash of the changed paths)': d(take.from, take.to),
    'snapshot → stop start (diffs, events)': d(take.to, stop.from),
    'stop old tree': d(stop.from, stop.to),
    'stop → launch start': d(stop.to, launch.from),
    'launch (cache clearing + spawn)': d(launch.from, launch.to),
    'spawned → app READY (app boot)': d(launch.to, readyMono),
  };
}

// ---- 2. one restart in a small project --------------------------------------------------------

if (only.includes('small')) {
  const n = quick ? 3 : 15;
  const dir = makeTemp('profile-small');
  const p = basicProject(dir);
  const floor = [];
  for (let i = 0; i < 5; i++) {
    const f = new ToolRun([process.execPath, 'app.js'], dir, { label: 'floor' }).start();
    const r = await f.waitReady(() => true, { timeoutMs: 10_000 });
    if (r) floor.push(r.t - f.t0);
    await f.stop();
  }
  const { run, timings } = devsupRun(dir);
  const rows = [];
  const totals = [];
  if (await run.waitReady(() => true, { timeoutMs: 30_000 })) {
    for (let i = 1; i <= n; i++) {
      await run.quiet(400, 5000);
      const from = run.readies.length;
      const w0 = mono();
      const d0 = Date.now();
      writeFileSync(p.modFile, modSource(`P${i}`));
      const r = await run.waitReady((x) => x.marker === `P${i}`, { from, timeoutMs: 10_000 });
      if (!r) continue;
      await run.quiet(200, 2000);
      // READY carries wall-clock ms; move it onto the monotonic clock through the write's two stamps.
      const readyMono = w0 + (r.t - d0) * 1000;
      totals.push(r.t - d0);
      const ph = restartPhases(timings, w0, readyMono);
      if (ph) rows.push(ph);
    }
  }
  await run.stop();
  removeTemp(dir);
  out('## 2. One restart, two-file project');
  out();
  out(`Edit → READY median ${ms(median(totals))} over ${totals.length} edits; floor (node app.js) ${ms(median(floor))}. Medians per phase:`);
  out();
  if (rows.length > 0) for (const k of Object.keys(rows[0])) out(`- ${k}: ${ms(median(rows.map((r) => r[k])))}`);
  out();
}

// ---- 3. the big tree under the CPU profiler ------------------------------------------------------

if (only.includes('tree')) {
  const given = value('--tree');
  let tree;
  let treeDir;
  if (given) {
    treeDir = given;
    tree = { dir: given, modFile: join(given, 'mod.js'), deepFile: deepIn(given) };
  } else {
    treeDir = makeTemp('profile-tree');
    tree = scaleProject(treeDir, quick ? SCALE_QUICK : SCALE_FULL);
  }
  resetScale(tree);
  const profDir = makeTemp('cpuprof');
  const { run, timings } = devsupRun(tree.dir, ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval', '500']);
  const hz = clockTicks();
  const cpuOf = () => {
    const s = readStat(run.pid);
    return s ? (s.utime + s.stime) / hz : NaN;
  };
  const first = await run.waitReady(() => true, { timeoutMs: 300_000 });
  out('## 3. devsup on the big tree (CPU profile)');
  out();
  if (!first) {
    out(`devsup never started the app: ${run.tail.slice(-5).join(' | ')}`);
  } else {
    const startCpu = cpuOf();
    await run.quiet(2000, 10_000);
    const rss = memoryKb(run.pid);
    const editMs = [];
    const editCpu = [];
    for (let k = 1; k <= edits; k++) {
      await run.quiet(1000, 5000);
      const from = run.readies.length;
      const c0 = cpuOf();
      const t0 = Date.now();
      writeFileSync(tree.deepFile, libSource(k));
      const r = await run.waitReady((x) => x.marker.endsWith(`:${k}`), { from, timeoutMs: 120_000 });
      editMs.push(r ? r.t - t0 : NaN);
      editCpu.push(cpuOf() - c0);
    }
    await run.quiet(500, 3000);
    const mem = timings.filter((t) => t.fn === 'memory').pop()?.mem;
    out(`- launch → first READY: ${ms(first.t - run.t0)}; devsup's own CPU until then: ${startCpu.toFixed(2)} s (user+sys, all threads)`);
    out(`- RSS at rest after start: ${(rss.rss / 1024).toFixed(0)} MB (peak ${(rss.hwm / 1024).toFixed(0)} MB); last heap sample: ${mem ? `heapUsed ${mem.heapUsed} MB of heapTotal ${mem.heapTotal} MB, external ${mem.external} MB, rss ${mem.rss} MB` : '–'}`);
    out(`- edit deep in the tree → READY: ${editMs.map(ms).join(', ')}; devsup CPU per edit: ${editCpu.map((c) => `${c.toFixed(2)} s`).join(', ')}`);
    out();
    out('Phases (wrapped methods; fs = file system calls made during the phase; heap after it):');
    out();
    for (const t of timings) {
      if (!t.fn || t.fn === 'hook-loaded' || t.fn === 'memory') continue;
      const fsCalls = Object.entries(t.fs ?? {}).filter(([, c]) => c > 0).map(([k, c]) => `${k} ${c}`).join(', ');
      out(`- ${t.fn}: ${ms(t.ms)}${t.files ? `, ${t.files} files` : ''}${fsCalls ? ` — ${fsCalls}` : ''}${t.mem ? ` — heap ${t.mem.heapUsed} MB, rss ${t.mem.rss} MB` : ''}`);
    }
    out();
  }
  await run.stop(15_000);
  killReported();
  resetScale(tree);
  const profFile = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!profFile) {
    out('No CPU profile was written (devsup did not exit normally).');
  } else {
    const profile = JSON.parse(readFileSync(join(profDir, profFile), 'utf8'));
    if (save) {
      copyFileSync(join(profDir, profFile), save);
      out(`CPU profile saved to ${save}`);
      out();
    }
    const windows = timings
      .filter((t) => t.from && /Snapshotter\.(take|update)|supervise:Supervisor\.start$|Worker\.launch|Worker\.stopCurrent/.test(t.fn))
      .map((t) => ({ name: `${t.fn} (${ms(t.ms)})`, from: t.from, to: t.to }));
    windows.unshift({ name: 'whole run', from: -Infinity, to: Infinity });
    for (const w of windows) report(profile, w);
  }
  removeTemp(profDir);
  if (!given) removeTemp(treeDir);
}

function deepIn(dir) {
  const app = readFileSync(join(dir, 'app.js'), 'utf8');
  const m = /from '\.\/(src\/[^']+)'/.exec(app);
  if (!m) throw new Error(`${dir} is not a tree made by bench/projects.mjs`);
  return join(dir, m[1]);
}

function report(profile, w) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => {
    const f = n.callFrame;
    const url = f.url ? relative(REPO, f.url.replace(/^file:\/\//, '')) : '';
    return `${f.functionName || '(anonymous)'}${url ? ` ${url}:${f.lineNumber + 1}` : ''}`;
  };
  const self = new Map();
  const incl = new Map();
  let t = profile.startTime;
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i];
    if (t < w.from || t > w.to) continue;
    // A sample stands for the time until the next one.
    const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i]) / 1000;
    const node = byId.get(profile.samples[i]);
    total += dt;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    self.set(key(node), (self.get(key(node)) ?? 0) + dt);
    const seen = new Set();
    for (let id = node.id; id !== undefined; id = parent.get(id)) {
      const k = key(byId.get(id));
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const top = (m, n, filter = () => true) =>
    [...m.entries()].filter(([k]) => filter(k)).sort((a, b) => b[1] - a[1]).slice(0, n);
  out(`### ${w.name}`);
  out();
  out(`main thread: ${ms(total)} sampled, ${ms(total - idle)} busy (${total > 0 ? Math.round(((total - idle) / total) * 100) : 0} %), ${ms(idle)} idle (waiting for the thread pool / I/O)`);
  out();
  out('Self time:');
  for (const [k, v] of top(self, 10)) out(`  ${ms(v).padStart(9)}  ${k}`);
  out('Inclusive, devsup code only:');
  for (const [k, v] of top(incl, 10, (k) => k.includes(' dist/'))) out(`  ${ms(v).padStart(9)}  ${k}`);
  out();
}
