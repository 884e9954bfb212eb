// Restart of a heavier app at equal settings, cut into its parts: the write → the new process (what
// the supervisor itself costs beyond the settle window) and the new process → READY (the app's boot,
// which the supervisor's own work after a restart can slow down on a small machine). Run as part of
// the latency scenario; devsup and nodemon only, since they are the two with the same settle setting.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FILLER, makeTemp, modSource, removeTemp } from './projects.mjs';
import { median, percentile } from './stats.mjs';
import { ToolRun, envFor, sleep } from './tools.mjs';

/** Modules the app requires before READY: a boot long enough for competition to show. */
export const HEAVY_MODULES = 400;
/** The settle windows compared: the default, and none at all. */
export const RESTART_SETTLES = [100, 0];
export const RESTART_COUNTS = { full: 20, quick: 3 };
/** Beyond the settle window (and a bare spawn's own start), the write → new process target. */
const SPAWN_BEYOND_MS = 20;
/** The app's boot under the tool, against the same boot spawned directly. */
const BOOT_OVER_FLOOR_MS = 10;
/** The next edit comes at least this long after the previous READY. */
const EDIT_GAP_MS = 300;

const heavyName = (i) => `h${String(i).padStart(3, '0')}.cjs`;

/**
 * app.js requires HEAVY_MODULES small CommonJS modules, then prints BOOT with the moment its process
 * began (performance.timeOrigin) and READY: the gap between the two is its boot as it sees it.
 */
export function heavyProject(dir) {
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'bench-heavy', private: true, type: 'module' }, null, 2));
  const lib = join(dir, 'heavy');
  mkdirSync(lib, { recursive: true });
  for (let i = 0; i < HEAVY_MODULES; i++) {
    const body = `function f${i}(xs) {\n  return xs.map((x) => x * ${i} + 1).filter(Boolean);\n}\nmodule.exports = { v: ${i}, f: f${i}, s: '${'x'.repeat(200)}' };\n`;
    writeFileSync(join(lib, heavyName(i)), `${FILLER}${body}`);
  }
  const requires = Array.from({ length: HEAVY_MODULES }, (_, i) => `require('./${heavyName(i)}');`);
  writeFileSync(join(lib, 'index.cjs'), `${requires.join('\n')}\nmodule.exports = ${HEAVY_MODULES};\n`);
  writeFileSync(
    join(dir, 'app.js'),
    [
      `import { createRequire } from 'node:module';`,
      `import { marker } from './mod.js';`,
      `createRequire(import.meta.url)('./heavy/index.cjs');`,
      `process.stdout.write(\`BOOT pid=\${process.pid} origin=\${performance.timeOrigin.toFixed(1)}\\n\`);`,
      `process.stdout.write(\`READY pid=\${process.pid} t=\${Date.now()} marker=\${marker}\\n\`);`,
      `setInterval(() => {}, 2 ** 31 - 1);`,
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'mod.js'), modSource('m0'));
  return { dir, modFile: join(dir, 'mod.js') };
}

const BOOT_RE = /^BOOT pid=(\d+) origin=([\d.]+)$/;
const nowMs = () => performance.timeOrigin + performance.now();

/** `node app.js` spawned directly: its boot (origin → READY) and how long after spawn() it began. */
function bareBoot(dir) {
  return new Promise((resolve) => {
    const t = nowMs();
    const c = spawn(process.execPath, ['app.js'], { cwd: dir, env: envFor(), stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    const timer = setTimeout(() => finish(undefined), 10_000);
    const finish = (r) => {
      clearTimeout(timer);
      c.kill('SIGKILL');
      resolve(r);
    };
    c.stdout.setEncoding('utf8');
    c.stdout.on('data', (d) => {
      text += d;
      const o = /origin=([\d.]+)/.exec(text);
      const r = /READY pid=\d+ t=(\d+)/.exec(text);
      if (o && r) finish({ boot: Number(r[1]) - Number(o[1]), lag: Number(o[1]) - t });
    });
    c.on('error', () => finish(undefined));
  });
}

/** The tool's argv at this settle: devsup's --settle, nodemon's --delay (left out for none). */
function argvAt(tool, settle) {
  if (tool.id === 'devsup') return tool.argv({ settle });
  const argv = tool.argv();
  const at = argv.indexOf('--delay');
  if (at < 0) return argv;
  return settle > 0 ? argv.map((a, i) => (i === at + 1 ? `${settle}ms` : a)) : argv.filter((_, i) => i !== at && i !== at + 1);
}

/** One tool at one settle: n edits, each followed by one bare boot of the same app as its floor. */
async function oneRun(ctx, tool, settle, n) {
  const dir = makeTemp('restart');
  const out = { settle, readyMs: [], spawnMs: [], bootMs: [], floorBootMs: [], floorLagMs: [], timeouts: 0 };
  try {
    const p = heavyProject(dir);
    const run = new ToolRun(argvAt(tool, settle), dir, { verbose: ctx.verbose, label: tool.id }).start();
    const origins = new Map();
    run.on('line', (_stream, text) => {
      const m = BOOT_RE.exec(text);
      if (m) origins.set(Number(m[1]), Number(m[2]));
    });
    try {
      if (!(await run.waitReady(() => true, { timeoutMs: 30_000 }))) return { ...out, failed: run.exited ? 'exited' : 'no READY' };
      await run.quiet(500, 3000);
      for (let i = 1; i <= n; i++) {
        const marker = `R${i}`;
        const from = run.readies.length;
        const t0 = nowMs();
        writeFileSync(p.modFile, modSource(marker));
        const r = await run.waitReady((x) => x.marker === marker, { from, timeoutMs: 10_000 });
        if (!r) {
          out.timeouts++;
          if (out.timeouts >= 3 && out.readyMs.length === 0) break;
          continue;
        }
        const origin = origins.get(r.pid);
        out.readyMs.push(r.t - t0);
        if (origin !== undefined) {
          out.spawnMs.push(origin - t0);
          out.bootMs.push(r.t - origin);
        }
        await run.quiet(300, 5000);
        const f = await bareBoot(dir);
        if (f) {
          out.floorBootMs.push(f.boot);
          out.floorLagMs.push(f.lag);
        }
        // The next edit once the machine is quiet after the previous READY and the bare boot.
        await sleep(Math.max(100, r.t + EDIT_GAP_MS - Date.now()));
      }
      return out;
    } finally {
      const res = await run.stop();
      if (res.left.length > 0) ctx.log(`  warning: ${tool.id} left ${res.left.length} process(es) after SIGKILL`);
    }
  } finally {
    removeTemp(dir);
  }
}

/**
 * The tools take turns this many times per settle, the first of each pair of turns going first in
 * one and last in the other (devsup, nodemon, nodemon, devsup, …): a load that drifts during the
 * scenario then weighs on both the same.
 */
const ROUNDS = 4;

/** `results.restart`: per settle, per tool (devsup and nodemon only). */
export async function restartLatency(ctx, tools, phase) {
  const n = ctx.quick ? RESTART_COUNTS.quick : RESTART_COUNTS.full;
  const rounds = ctx.quick ? 1 : ROUNDS;
  const out = {};
  for (const settle of RESTART_SETTLES) {
    out[settle] = {};
    for (let round = 1; round <= rounds; round++) {
      const pair = tools.filter((t) => t.id === 'devsup' || t.id === 'nodemon');
      for (const tool of round % 2 === 1 ? pair : [...pair].reverse()) {
        phase(`latency, heavy app, settle ${settle}: ${tool.label}${rounds > 1 ? ` (turn ${round} of ${rounds})` : ''}`);
        const r = await oneRun(ctx, tool, settle, Math.ceil(n / rounds));
        out[settle][tool.id] = merge(out[settle][tool.id], r);
      }
    }
  }
  return out;
}

function merge(a, b) {
  if (!a) return b;
  const m = { ...a, timeouts: a.timeouts + b.timeouts, failed: a.failed ?? b.failed };
  for (const k of ['readyMs', 'spawnMs', 'bootMs', 'floorBootMs', 'floorLagMs']) m[k] = [...a[k], ...b[k]];
  return m;
}

const ms = (v) => (v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v)} ms`);

/** Rows for the results table: edit → READY, write → new process beyond settle, boot against its floor. */
export function restartRows(results, label) {
  const rows = [];
  for (const settle of RESTART_SETTLES) {
    const byTool = results?.[settle];
    if (!byTool) continue;
    const how = settle > 0 ? `settle ${settle} ms (nodemon --delay ${settle}ms)` : 'no settle (nodemon without --delay)';
    const nodemonReady = median(byTool.nodemon?.readyMs ?? []);
    for (const [id, r] of Object.entries(byTool)) {
      const failed = r.failed ? 'failed' : undefined;
      const ready = median(r.readyMs);
      const lag = median(r.floorLagMs);
      const beyond = r.spawnMs.map((x) => x - settle - (lag ?? 0));
      const boot = median(r.bootMs);
      const floor = median(r.floorBootMs);
      const dev = id === 'devsup';
      rows.push({
        metric: `1b. Restart, app requiring ${HEAVY_MODULES} modules, ${how}: edit → READY`,
        tool: label(id),
        median: failed ?? ms(ready),
        p95: ms(percentile(r.readyMs, 95)),
        detail: `n=${r.readyMs.length}, timeouts=${r.timeouts}`,
        ...(dev ? { target: `≤ nodemon (${ms(nodemonReady)})`, pass: !r.failed && r.timeouts === 0 && Number.isFinite(nodemonReady) && ready <= nodemonReady } : {}),
      });
      rows.push({
        metric: `1c. Restart, ${how}: write → new process, beyond the settle window`,
        tool: label(id),
        median: failed ?? ms(median(beyond)),
        p95: ms(percentile(beyond, 95)),
        detail: `from just before the write to the new process's own start (its performance.timeOrigin), minus the settle and minus a bare spawn's start (${ms(lag)}, measured with the floor)`,
        ...(dev ? { target: `≤ ${SPAWN_BEYOND_MS} ms`, pass: !r.failed && beyond.length > 0 && median(beyond) <= SPAWN_BEYOND_MS } : {}),
      });
      rows.push({
        metric: `1d. Restart, ${how}: the app's boot under the tool (its start → READY)`,
        tool: label(id),
        median: failed ?? ms(boot),
        p95: ms(percentile(r.bootMs, 95)),
        detail: `floor: the same app spawned directly after each restart, ${ms(floor)} (p95 ${ms(percentile(r.floorBootMs, 95))}, n=${r.floorBootMs.length}); above it: ${ms(boot - floor)}`,
        ...(dev ? { target: `≤ floor + ${BOOT_OVER_FLOOR_MS} ms`, pass: !r.failed && Number.isFinite(boot) && boot <= floor + BOOT_OVER_FLOOR_MS } : {}),
      });
    }
  }
  return rows;
}

export const RESTART_METHOD = `- 1b–1d. Restart of an app that requires ${HEAVY_MODULES} small CommonJS modules before READY, devsup and nodemon at ${RESTART_SETTLES.map((s) => (s > 0 ? `settle ${s} ms` : 'no settle')).join(' and ')} (${RESTART_COUNTS.full} edits each, in ${ROUNDS} turns that alternate the tools, the order reversed every other turn). The app prints when its process began (\`performance.timeOrigin\`) and when it is READY, which splits each restart into the write → the new process and the app's boot. After each restart the same app is spawned once directly: its boot is the floor of 1d, and how long after \`spawn()\` it began is taken off 1c.`;
