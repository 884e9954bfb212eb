// The scenarios. Each takes one tool and returns raw measurements; report.mjs turns them into rows.
// Every wait has a timeout, so a tool that never restarts shows up as a timeout, not a hang.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { appendFileSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { aliveId, cpuBetween, cpuSample, memoryKb, signalId } from './proc.mjs';
import { FILLER, basicProject, libProject, libSource, makeTemp, modSource, orphanProject, removeTemp, resetScale } from './projects.mjs';
import { median } from './stats.mjs';
import { DEVSUP_BIN, NODEMON_BIN, ToolRun, envFor, sleep } from './tools.mjs';

/** Repeat counts: the full run fits ~10 minutes on 2 cores, --quick about one. */
export const COUNTS = {
  full: { floor: 10, localFloor: 5, version: 10, startup: 5, latency: 30, burst: 5, touch: 20, half: 20, orphans: 10, scaleStarts: 5, scaleEdits: 3, idleMs: 20_000, toIdleMaxMs: 60_000, stragglerMs: 2000 },
  // A smoke run: every path exercised once or twice, waits for stragglers shortened.
  quick: { floor: 3, localFloor: 2, version: 3, startup: 1, latency: 4, burst: 1, touch: 3, half: 2, orphans: 2, scaleStarts: 2, scaleEdits: 1, idleMs: 2_000, toIdleMaxMs: 5_000, stragglerMs: 500 },
};

async function withRun(tool, dir, ctx, overrides, body) {
  const run = new ToolRun(tool.argv(overrides), dir, { verbose: ctx.verbose, label: tool.id }).start();
  try {
    return await body(run);
  } finally {
    const res = await run.stop();
    if (res.left.length > 0) ctx.log(`  warning: ${tool.id} left ${res.left.length} process(es) after SIGKILL`);
  }
}

function firstReady(run, timeoutMs) {
  return run.waitReady(() => true, { timeoutMs });
}

function describeFailure(run) {
  return run.exited ? `exited (${JSON.stringify(run.exitInfo)}): ${run.tail.slice(-3).join(' | ')}` : 'no READY';
}

async function floorSamples(dir, n, ctx) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const run = new ToolRun([process.execPath, 'app.js'], dir, { verbose: ctx.verbose, label: 'floor' }).start();
    const r = await firstReady(run, 10_000);
    xs.push(r ? r.t - run.t0 : NaN);
    await run.stop();
  }
  return xs;
}

/** Time for the app alone: `node app.js` from spawn to READY. */
export async function floor(ctx) {
  const dir = makeTemp('floor');
  try {
    basicProject(dir);
    return await floorSamples(dir, ctx.counts.floor, ctx);
  } finally {
    removeTemp(dir);
  }
}

/** Wall time of a short-lived command, in its own group, killed if it takes over 10 s. */
function wallTime(argv) {
  return new Promise((done) => {
    const t = performance.now();
    const c = spawn(argv[0], argv.slice(1), { stdio: 'ignore', env: envFor(), detached: true });
    const timer = setTimeout(() => {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 10_000);
    const end = () => {
      clearTimeout(timer);
      done(performance.now() - t);
    };
    c.on('exit', end);
    c.on('error', end);
  });
}

export async function versionTimes(ctx) {
  const out = { devsup: [], nodemon: [], node: [] };
  for (let i = 0; i < ctx.counts.version; i++) {
    out.devsup.push(await wallTime([DEVSUP_BIN, '--version']));
    if (NODEMON_BIN) out.nodemon.push(await wallTime([process.execPath, NODEMON_BIN, '--version']));
    // `node --version` exits before JavaScript starts; `node -e 0` is the real cost of a node process.
    out.node.push(await wallTime([process.execPath, '-e', '0']));
  }
  return out;
}

/** Launch to first READY of the app (compare with the floor). */
export async function startup(ctx, tool) {
  const dir = makeTemp('startup');
  try {
    basicProject(dir);
    const xs = [];
    for (let i = 0; i < ctx.counts.startup; i++) {
      await withRun(tool, dir, ctx, {}, async (run) => {
        const r = await firstReady(run, 30_000);
        if (!r) ctx.log(`  ${tool.id} startup: ${describeFailure(run)}`);
        xs.push(r ? r.t - run.t0 : NaN);
      });
    }
    return { ms: xs };
  } finally {
    removeTemp(dir);
  }
}

/** One file edited, time until a READY line shows the new marker. */
export async function latency(ctx, tool) {
  const dir = makeTemp('latency');
  try {
    const p = basicProject(dir);
    // The machine's load drifts (other work shares it), so each tool is compared with a floor
    // measured right before it, on the same files.
    const floorMs = await floorSamples(dir, ctx.counts.localFloor, ctx);
    return await withRun(tool, dir, ctx, {}, async (run) => {
      const out = { ms: [], restarts: [], timeouts: 0, floorMs };
      if (!(await firstReady(run, 30_000))) return { ...out, failed: describeFailure(run) };
      await run.quiet(500, 3000);
      for (let i = 1; i <= ctx.counts.latency; i++) {
        const marker = `L${i}`;
        const from = run.readies.length;
        const t0 = Date.now();
        writeFileSync(p.modFile, modSource(marker));
        const r = await run.waitReady((x) => x.marker === marker, { from, timeoutMs: 10_000 });
        if (r) out.ms.push(r.t - t0);
        else out.timeouts++;
        await run.quiet(300, 5000);
        out.restarts.push(run.readies.length - from);
        if (out.timeouts >= 3 && out.ms.length === 0) break;
      }
      return out;
    });
  } finally {
    removeTemp(dir);
  }
}

/** 300 imported files rewritten within ~50 ms; every READY after that is a restart. */
export async function burst(ctx, tool) {
  const dir = makeTemp('burst');
  try {
    const p = libProject(dir);
    return await withRun(tool, dir, ctx, {}, async (run) => {
      const out = { restarts: [], complete: [], toFinalMs: [], spreadMs: [] };
      if (!(await firstReady(run, 30_000))) return { ...out, failed: describeFailure(run) };
      for (let k = 1; k <= ctx.counts.burst; k++) {
        await run.quiet(500, 5000);
        const from = run.readies.length;
        const t0 = Date.now();
        const chunk = Math.ceil(p.libFiles.length / 5);
        for (let c = 0; c < 5; c++) {
          for (const f of p.libFiles.slice(c * chunk, (c + 1) * chunk)) writeFileSync(f, libSource(k));
          if (c < 4) await sleep(Math.max(0, t0 + (c + 1) * 12 - Date.now()));
        }
        out.spreadMs.push(Date.now() - t0);
        await run.quiet(ctx.counts.stragglerMs, 20_000);
        const rs = run.readies.slice(from);
        out.restarts.push(rs.length);
        const last = rs[rs.length - 1];
        out.complete.push(last?.marker === `m0:${k}-${k}`);
        out.toFinalMs.push(last ? last.t - t0 : NaN);
      }
      return out;
    });
  } finally {
    removeTemp(dir);
  }
}

/** Imported files touched (mtime only) and rewritten with identical bytes, one every 250 ms. */
export async function touch(ctx, tool) {
  const dir = makeTemp('touch');
  try {
    const p = libProject(dir);
    return await withRun(tool, dir, ctx, {}, async (run) => {
      const out = { utimes: undefined, rewrite: undefined };
      if (!(await firstReady(run, 30_000))) return { ...out, failed: describeFailure(run) };
      const files = p.libFiles.slice(0, ctx.counts.touch);
      for (const variant of ['utimes', 'rewrite']) {
        await run.quiet(Math.min(1000, ctx.counts.stragglerMs), 5000);
        const from = run.readies.length;
        for (const f of files) {
          if (variant === 'utimes') {
            const now = new Date();
            utimesSync(f, now, now);
          } else {
            writeFileSync(f, readFileSync(f));
          }
          await sleep(250);
        }
        await run.quiet(ctx.counts.stragglerMs, 20_000);
        out[variant] = run.readies.length - from;
      }
      out.files = files.length;
      return out;
    });
  } finally {
    removeTemp(dir);
  }
}

/**
 * mod.js written with a first part that is valid JavaScript with the marker PARTIAL, then 60 ms
 * later the rest appended, which sets the real marker. A restart between the two loads the
 * PARTIAL marker, or, caught during the truncation, an empty file (the app crashes on the missing
 * export).
 */
export async function halfWritten(ctx, tool) {
  const dir = makeTemp('half');
  try {
    const p = basicProject(dir);
    return await withRun(tool, dir, ctx, {}, async (run) => {
      const out = { trials: 0, partial: 0, crashed: 0, endedStale: 0, restarts: [] };
      if (!(await firstReady(run, 30_000))) return { ...out, failed: describeFailure(run) };
      for (let i = 1; i <= ctx.counts.half; i++) {
        await run.quiet(300, 3000);
        const marker = `h${i}`;
        const from = run.readies.length;
        const crashFrom = run.crashLines;
        // Two separate open-write-close steps, as a generator or a copy in chunks does: a tool
        // that waits for the file to be closed sees a complete-looking file after the first.
        writeFileSync(p.modFile, `export let marker = 'PARTIAL';\n`);
        await sleep(60);
        appendFileSync(p.modFile, `marker = '${marker}';\n${FILLER}`);
        await run.quiet(600, 10_000);
        const rs = run.readies.slice(from);
        out.trials++;
        out.restarts.push(rs.length);
        const partial = rs.filter((r) => r.marker === 'PARTIAL').length;
        const crashed = run.crashLines - crashFrom > 0 ? 1 : 0;
        out.partial += partial;
        out.crashed += crashed;
        if (rs[rs.length - 1]?.marker !== marker) out.endedStale++;
        // A crashed or partial generation must not poison the next trial's baseline.
        if (rs[rs.length - 1]?.marker !== marker) {
          writeFileSync(p.modFile, modSource(`r${i}`));
          await run.waitReady((x) => x.marker === `r${i}`, { from: run.readies.length, timeoutMs: 3000 });
        }
      }
      return out;
    });
  } finally {
    removeTemp(dir);
  }
}

/** Watches recorded processes and notes when each generation's whole tree is gone. */
class GoneWatch {
  constructor() {
    this.gens = [];
    this.timer = setInterval(() => this.poll(), 5);
  }

  track(ids, t0) {
    this.gens.push({ ids: ids.filter(Boolean), t0, goneAt: undefined });
  }

  poll() {
    const now = Date.now();
    for (const g of this.gens) if (g.goneAt === undefined && !g.ids.some(aliveId)) g.goneAt = now;
  }

  get pending() {
    return this.gens.filter((g) => g.goneAt === undefined);
  }

  close() {
    clearInterval(this.timer);
  }
}

/** A child whose grandchild ignores SIGTERM, restarted N times. */
export async function orphans(ctx, tool) {
  const dir = makeTemp('orphans');
  const overrides = { grace: ctx.orphanGrace };
  try {
    const p = orphanProject(dir);
    return await withRun(tool, dir, ctx, overrides, async (run) => {
      const out = { restarts: 0, survivors: 0, goneMs: [], neverGone: 0, timeouts: 0, killed: 0 };
      if (!(await firstReady(run, 30_000))) return { ...out, failed: describeFailure(run) };
      const watch = new GoneWatch();
      try {
        for (let i = 1; i <= ctx.counts.orphans; i++) {
          await run.quiet(300, 5000);
            const prev = run.last;
          const from = run.readies.length;
          const t0 = Date.now();
          writeFileSync(p.modFile, modSource(`o${i}`));
          watch.track([prev.id, prev.gcId], t0);
          const r = await run.waitReady((x) => x.marker === `o${i}`, { from, timeoutMs: 15_000 });
          if (!r) {
            out.timeouts++;
            if (out.timeouts >= 2) break;
          } else out.restarts++;
        }
        // The last generation gets the settle time and the grace period, and a margin, to disappear.
        const deadline = Date.now() + ctx.settle + ctx.orphanGrace + ctx.counts.stragglerMs;
        while (Date.now() < deadline && watch.pending.length > 0) await sleep(20);
        watch.poll();
        for (const g of watch.gens) {
          if (g.goneAt === undefined) out.neverGone++;
          else out.goneMs.push(g.goneAt - g.t0);
        }
        // Survivors: every process of a generation other than the running one.
        const current = run.last;
        const old = run.readies.filter((r) => r !== current).flatMap((r) => [r.id, r.gcId]).filter(Boolean);
        const alive = old.filter(aliveId);
        out.survivors = alive.length;
        out.survivorPids = alive.map((a) => a.pid);
        for (const id of alive) if (signalId(id, 'SIGKILL')) out.killed++;
        // The running generation's grandchild ignores SIGTERM too; it is not part of the count, and
        // left alone it would only make stopping the tool wait for the benchmark's own SIGKILL.
        if (current?.gcId) signalId(current.gcId, 'SIGKILL');
        const hard = Date.now() + 2000;
        while (Date.now() < hard && alive.some(aliveId)) await sleep(20);
      } finally {
        watch.close();
      }
      return out;
    });
  } finally {
    removeTemp(dir);
  }
}

/** Idle means the tool has finished its initial work: one second under 2 % of a core. Returns how long that took. */
async function idleAfter(run, ctx) {
  const readyAt = Date.now();
  let prev = cpuSample(run.supervisorPids());
  while (Date.now() - readyAt < ctx.counts.toIdleMaxMs) {
    await sleep(1000);
    const now = cpuSample(run.supervisorPids());
    const busy = cpuBetween(prev, now);
    prev = now;
    if (busy < 0.02) break;
  }
  return Date.now() - readyAt - 1000;
}

/** The big tree: startup, memory, idle CPU and one deep edit, against the shared generated tree. */
export async function scale(ctx, tool, p) {
  resetScale(p);
  // A fresh tree state for every tool: nothing it sees was written while the previous tool ran.
  await sleep(300);
  const out = { startupMs: NaN, rssKb: NaN, hwmKb: NaN, idleCpuPct: NaN, busyAfterReadyMs: NaN, editMs: [], timeouts: 0 };
  try {
    if (tool.savesIndex) {
      // First launches in a checkout: no saved index (a fresh clone, CI, a new container). The
      // launches measured below are the next ones, on the index the last of these saved.
      const firsts = [];
      for (let k = 1; k <= ctx.counts.scaleStarts; k++) {
        const last = k === ctx.counts.scaleStarts;
        rmSync(join(p.dir, '.devsup'), { recursive: true, force: true });
        firsts.push(
          await withRun(tool, p.dir, ctx, {}, async (run) => {
            const r = await firstReady(run, ctx.quick ? 90_000 : 180_000);
            // Stopped once it has gone quiet, so the index it saves after its first start is complete.
            if (r && last) await idleAfter(run, ctx);
            return r ? r.t - run.t0 : NaN;
          }),
        );
      }
      out.firstRuns = firsts;
      out.firstRunMs = median(firsts);
      resetScale(p);
      await sleep(300);
    }
    // One launch is at the mercy of the machine's noise: the launches before the measured run
    // (start, first READY, stop) give the startup line a median. Nothing is edited between them.
    const starts = [];
    for (let k = 1; k < ctx.counts.scaleStarts; k++) {
      starts.push(
        await withRun(tool, p.dir, ctx, {}, async (run) => {
          const r = await firstReady(run, ctx.quick ? 90_000 : 180_000);
          return r ? r.t - run.t0 : NaN;
        }),
      );
    }
    return await withRun(tool, p.dir, ctx, {}, async (run) => {
      const r = await firstReady(run, ctx.quick ? 90_000 : 180_000);
      if (!r) return { ...out, failed: describeFailure(run) };
      starts.push(r.t - run.t0);
      out.starts = starts;
      out.startFailures = starts.filter((x) => !Number.isFinite(x)).length;
      out.startupMs = median(starts);
      out.busyAfterReadyMs = await idleAfter(run, ctx);
      const pids = run.supervisorPids();
      out.supervisorProcs = pids.length;
      const c0 = cpuSample(pids);
      const w0 = performance.now();
      await sleep(ctx.counts.idleMs);
      out.idleCpuPct = (cpuBetween(c0, cpuSample(pids)) / ((performance.now() - w0) / 1000)) * 100;
      let rss = 0;
      let hwm = 0;
      for (const pid of run.supervisorPids()) {
        const m = memoryKb(pid);
        rss += m.rss;
        hwm += m.hwm;
      }
      out.rssKb = rss;
      out.hwmKb = hwm;
      for (let k = 1; k <= ctx.counts.scaleEdits; k++) {
        await run.quiet(500, 5000);
        const from = run.readies.length;
        const t0 = Date.now();
        writeFileSync(p.deepFile, libSource(k));
        const e = await run.waitReady((x) => x.marker.endsWith(`:${k}`), { from, timeoutMs: 60_000 });
        if (e) out.editMs.push(e.t - t0);
        else out.timeouts++;
        if (out.timeouts >= 2) break;
      }
      return out;
    });
  } finally {
    resetScale(p);
  }
}
