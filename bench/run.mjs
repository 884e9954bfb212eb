#!/usr/bin/env node
// Entry point of `npm run bench`: runs every tool through the same scenarios, one tool after
// another, prints the table and writes BENCHMARKS.md. Installs nothing; entr is used if on PATH.
import { existsSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { cpuInfo, treeOf } from './proc.mjs';
import { makeTemp, tempBase, removeAllTemps, removeTemp, scaleProject, SCALE_FULL, SCALE_QUICK } from './projects.mjs';
import { KEEP_MARKER, buildRows, consoleTable, writeMarkdown } from './report.mjs';
import { writeSummary } from './summary.mjs';
import { RESTART_METHOD, restartLatency } from './restart.mjs';
import { PY_COUNTS, pythonFlake, pythonFloor, pythonLatency, pythonSection, pythonTools, PYTHON_SECTION } from './python.mjs';
import * as S from './scenarios.mjs';
import { many, manySection, MANY_SECTION } from './many.mjs';
import { writeSection } from './section.mjs';
import { median } from './stats.mjs';
import { EXT, REPO, emergencyKill, killReported, toolDefs, versions } from './tools.mjs';

const SCENARIOS = ['startup', 'latency', 'burst', 'touch', 'half', 'orphans', 'scale', 'python', 'many', 'flood'];

function parseArgs(argv) {
  const o = { quick: false, verbose: false, write: true, raw: undefined, tmp: undefined, out: join(REPO, 'BENCHMARKS.md'), tools: undefined, only: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--verbose' || a === '-v') o.verbose = true;
    else if (a === '--no-write') o.write = false;
    else if (a === '--out') o.out = next();
    else if (a === '--raw') o.raw = next();
    else if (a === '--tmp') o.tmp = next();
    else if (a === '--tools') o.tools = next().split(',');
    else if (a === '--only') o.only = next().split(',');
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown option ${a}`);
  }
  for (const s of o.only ?? []) if (!SCENARIOS.includes(s)) usage(`unknown scenario ${s}`);
  return o;
}

function usage(err) {
  const text = `usage: node bench/run.mjs [--quick] [--tools devsup,nodemon,node-watch,entr] [--only ${SCENARIOS.join(',')}] [--out FILE] [--no-write] [--raw FILE.json] [--tmp DIR] [--verbose]`;
  if (err) {
    process.stderr.write(`bench: ${err}\n${text}\n`);
    process.exit(2);
  }
  process.stdout.write(`${text}\n`);
  process.exit(0);
}

const opts = parseArgs(process.argv.slice(2));
if (process.platform !== 'linux' || !existsSync('/proc/self/stat')) usage('needs Linux: processes are measured through /proc');
if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) usage('dist/ is missing: run `npm run build` first');

// Whatever happens, nothing this benchmark started may outlive it, and no temp tree may stay behind.
let cleaned = false;
function cleanupSync() {
  if (cleaned) return;
  cleaned = true;
  emergencyKill();
  removeAllTemps();
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, stopping everything it started\n`);
    cleanupSync();
    process.exit(130);
  });
}

const settle = 100;
const grace = 3000;
const orphanGrace = 1000;
const counts = opts.quick ? S.COUNTS.quick : S.COUNTS.full;
const ctx = { quick: opts.quick, counts, py: opts.quick ? PY_COUNTS.quick : PY_COUNTS.full, settle, grace, orphanGrace, verbose: opts.verbose, log: (m) => process.stderr.write(`${m}\n`) };
const tools = toolDefs({ settle, grace }).filter((t) => !opts.tools || opts.tools.includes(t.id));
const wanted = (s) => !opts.only || opts.only.includes(s);
const began = Date.now();

const tmpBase = tempBase(opts.tmp);
const loads = [loadavg()[0]];
const phase = (name) => {
  loads.push(loadavg()[0]);
  ctx.log(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${name} (load ${loadavg()[0].toFixed(2)})`);
};
const ver = versions();
const results = {};

phase(`tools: ${tools.map((t) => t.label).join(', ')}${opts.quick ? ' (quick run)' : ''}`);
// Everything but the Python scenario shares the Node floor and writes the main table.
const nodeRun = SCENARIOS.some((s) => !['python', 'many', 'flood'].includes(s) && wanted(s));
let floorMs = [];
let versionMs = [];
if (nodeRun) {
  phase('floor and --version');
  floorMs = await S.floor(ctx);
  versionMs = await S.versionTimes(ctx);
}

for (const scenario of ['startup', 'latency', 'burst', 'touch', 'half', 'orphans']) {
  if (!wanted(scenario)) continue;
  results[scenario] = {};
  for (const tool of tools) {
    phase(`${scenario}: ${tool.label}`);
    results[scenario][tool.id] = await S[scenario === 'half' ? 'halfWritten' : scenario](ctx, tool);
  }
  if (scenario === 'latency') results.restart = await restartLatency(ctx, tools, phase);
}

const shape = opts.quick ? SCALE_QUICK : SCALE_FULL;
let scaleInfo = { idleMs: counts.idleMs };
if (wanted('scale')) {
  phase('scale: generating the tree');
  const dir = makeTemp('scale');
  const t = performance.now();
  const p = scaleProject(dir, shape);
  scaleInfo = { ...scaleInfo, genMs: performance.now() - t, files: p.sourceFiles, dirs: p.sourceDirs, nm: p.nodeModulesFiles };
  results.scale = {};
  try {
    for (const tool of tools) {
      phase(`scale: ${tool.label}`);
      results.scale[tool.id] = await S.scale(ctx, tool, p);
    }
  } finally {
    phase('scale: removing the tree');
    removeTemp(dir);
  }
}

let pyLines;
if (wanted('python')) {
  const pyLoads = [loadavg()[0]];
  const pyTools = pythonTools({ settle, grace }).filter((t) => !opts.tools || opts.tools.includes(t.id));
  phase('python: floor');
  const pyFloor = await pythonFloor(ctx);
  const latency = {};
  for (const tool of pyTools) {
    phase(`python: edit → READY, ${tool.label}`);
    latency[tool.id] = await pythonLatency(ctx, tool);
    pyLoads.push(loadavg()[0]);
  }
  phase('python: flake against plain pytest runs');
  const flake = await pythonFlake(ctx);
  pyLoads.push(loadavg()[0]);
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const cmdline = `node bench/run.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}`;
  pyLines = pythonSection({ floorMs: pyFloor, latency, flake, tools: pyTools, settle, date, loads: pyLoads, cmdline });
  process.stdout.write(`\n${pyLines.join('\n')}\n`);
  if (opts.raw) writeFileSync(`${opts.raw}.python.json`, JSON.stringify({ pyFloor, latency, flake }, null, 2));
}

let manyLines;
if (wanted('many')) {
  phase('many workers: devsup up, concurrently, direct spawn');
  const manyLoads = [loadavg()[0]];
  const res = await many({ ...ctx, log: (m) => (manyLoads.push(loadavg()[0]), ctx.log(m)) });
  manyLines = manySection(res, { date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), cmdline: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(), loads: manyLoads });
  process.stdout.write(`\n${manyLines.join('\n')}\n`);
  if (opts.raw) writeFileSync(`${opts.raw}.many.json`, JSON.stringify(res, null, 2));
}

let floodLines;
if (wanted('flood')) {
  const { floodBench, floodSection } = await import('./flood.mjs');
  const fLoads = [loadavg()[0]];
  phase('flood');
  const res = await floodBench(ctx);
  fLoads.push(loadavg()[0]);
  floodLines = floodSection(res, { date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), cmdline: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(), loads: fLoads });
  process.stdout.write(`\n${floodLines.join('\n')}\n`);
  if (opts.raw) writeFileSync(`${opts.raw}.flood.json`, JSON.stringify(res, null, 2));
}

// Belt and braces: every app process any tool ever reported is dead by now.
const strays = killReported('SIGKILL');
if (strays > 0) ctx.log(`bench: killed ${strays} app process(es) still alive at the end`);
const selfTree = treeOf(process.pid).filter((r) => r.pid !== process.pid);
if (selfTree.length > 0) ctx.log(`bench: warning: ${selfTree.length} child process(es) still present: ${selfTree.map((r) => `${r.pid} ${r.comm}`).join(', ')}`);

loads.push(loadavg()[0]);
const rows = nodeRun ? buildRows({ tools, results, floorMs, versionMs, settle, grace, orphanGrace, scaleInfo }) : [];
if (nodeRun) process.stdout.write(`\n${consoleTable(rows)}\n`);
if (opts.raw) writeFileSync(opts.raw, JSON.stringify({ floorMs, versionMs, scaleInfo, results }, null, 2));
phase('done');

if (opts.write && pyLines) {
  writeSection(opts.out, PYTHON_SECTION, pyLines, KEEP_MARKER);
  ctx.log(`bench: wrote the Python section of ${opts.out}`);
}
if (opts.write && floodLines) writeSection(opts.out, (await import('./flood.mjs')).FLOOD_SECTION, floodLines, KEEP_MARKER);
if (opts.write && nodeRun) {
  const memGiB = (totalmem() / 2 ** 30).toFixed(1);
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const header = [
    ...(opts.quick ? ['**Quick smoke run (`--quick`): small repeat counts and a 10 % scale tree; do not compare these numbers.**', ''] : []),
    `Generated by \`node bench/run.mjs${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(' ')}` : ''}\` on ${date}, in ${((Date.now() - began) / 1000).toFixed(0)} s.`,
    '',
    `- Machine: ${cpuInfo()}, ${cpus().length} cores, ${memGiB} GiB memory, Linux ${release()}`,
    `- Load average (1 min) between ${Math.min(...loads).toFixed(2)} and ${Math.max(...loads).toFixed(2)} during the run (sampled at each phase): other work on the machine shows up as noise in every tool's numbers.`,
    `- Generated projects under ${tmpBase}${tmpBase === '/dev/shm' ? ' (tmpfs)' : ''}.`,
    `- Versions: node ${ver.node}, devsup ${ver.devsup} (dist/ as built), nodemon ${ver.nodemon}${ver.entr ? `, entr ${ver.entr}` : ', entr not on PATH (skipped)'}`,
  ];
  const settingsLines = [
    ...tools.map((t) => `- **${t.label}**: \`${t.settings()}\``),
    `- Orphan scenario only: devsup gets \`--grace ${orphanGrace}\` (\`${tools[0]?.id === 'devsup' ? tools[0].settings({ grace: orphanGrace }) : ''}\`); nodemon, node --watch and entr have no SIGKILL escalation to configure.`,
    `- Settle: devsup \`--settle ${settle}\` and nodemon \`--delay ${settle}ms\` are both trailing debounces; node --watch has a fixed 200 ms trailing debounce (Node ${process.version}, not configurable); entr restarts on the first event.`,
    `- Extensions: ${EXT} for every tool (nodemon's default list). Ignored: node_modules and .git (devsup's and nodemon's defaults; entr's file list prunes both).`,
    '- node --watch watches only the files the app imports, reported by the child: it never sees files the app does not load, so the scale lines on startup, memory and idle CPU measure a different job.',
  ];
  const methodLines = [
    `- Every tool runs in its own process group and is stopped with SIGTERM, then SIGKILL after 3 s. READY lines carry the app's own \`Date.now()\`, so pipe delays do not count.`,
    `- Floor: \`node app.js\` spawned directly, spawn → READY (${counts.floor}×). \`--version\`: wall time of the process (${counts.version}×).`,
    `- Startup: launch of the tool → first READY in a two-file project (${counts.startup}× per tool).`,
    `- 1. Latency: \`mod.js\` rewritten with a new marker; time until a READY shows it (${counts.latency} edits; the next edit after 300 ms without a READY and at least 1.2 s after the last one, as devsup's loop guard takes a file changed within a second of five starts in a row for the child's own writes), compared with a floor of ${counts.localFloor} direct spawns taken right before each tool. "Restarts per edit" counts every READY per edit.`,
    RESTART_METHOD,
    `- 2. Burst: the app imports 300 files; all 300 are rewritten in 5 chunks 12 ms apart (${counts.burst}×), then READY lines are counted until ${counts.stragglerMs / 1000} s pass without one. "Saw all 300" means the last READY's marker reflects every file's new value.`,
    `- 3. Touch: ${counts.touch} imported files, one every 250 ms, first with \`utimes\` (mtime/ctime only), then rewritten with their own bytes; restarts counted until ${counts.stragglerMs / 1000} s pass without a READY.`,
    `- 4. Half-written: \`mod.js\` written (open, write, close) with \`export let marker = 'PARTIAL'\`, then 60 ms later \`marker = 'hN'\` and the rest appended (open, write, close) (${counts.half} trials). A READY with PARTIAL, or an app crash on the empty file ("does not provide an export"), counts as loading a half-written file.`,
    `- 5. Orphans: the app spawns a grandchild that ignores SIGTERM and waits until its handler is set before READY; ${counts.orphans} restarts. Every old child and grandchild is watched by pid + start time in /proc every 5 ms; survivors are counted after the last restart plus settle + grace + ${counts.stragglerMs / 1000} s, then killed by pid.`,
    `- 6. Scale: ${scaleInfo.files ?? '?'} files in ${scaleInfo.dirs ?? '?'} directories under src/ plus ${scaleInfo.nm ?? '?'} files in node_modules, ~1 KB each, generated once${scaleInfo.genMs ? ` (${(scaleInfo.genMs / 1000).toFixed(1)} s)` : ''} and shared by all tools. devsup is first launched once on the fresh tree (no saved file index) until it goes idle; that launch is reported on its own line. Each tool is then launched ${counts.scaleStarts} times on the unchanged tree, and the startup line is the median of these launches; the last of them is the measured run. After its first READY the tool must spend one second under 2 % CPU (at most ${counts.toIdleMaxMs / 1000} s), then CPU time is measured over ${counts.idleMs / 1000} s (the nanosecond run time the scheduler keeps per thread in /proc/PID/task/TID/schedstat, rather than utime+stime, which are sampled at clock ticks) and RSS summed over the supervisor's processes (its process tree minus the app's tree). Then ${counts.scaleEdits} edits of the one deep file the app imports.`,
  ];
  writeMarkdown(opts.out, { header, rows, settingsLines, methodLines, notes: autoNotes(results) });
  ctx.log(`bench: wrote ${opts.out}`);
}
if (opts.write && manyLines) writeSection(opts.out, MANY_SECTION, manyLines, KEEP_MARKER);
// The short table on top is read back from the file, whichever of its parts this run rewrote.
if (opts.write && (pyLines || nodeRun)) writeSummary(opts.out);

/** Plain statements the numbers support on their own; analysis belongs below the kept marker. */
function autoNotes(res) {
  const notes = [];
  const lat = res.latency ?? {};
  const dev = median(lat.devsup?.ms ?? []);
  const why = {
    'node-watch': 'no content check at all; its 200 ms debounce is its only delay',
    nodemon: 'restarts on any chokidar event after its delay, without reading the files',
    entr: 'a C program that restarts on the first event, with no settle time and no content check',
  };
  for (const [id, r] of Object.entries(lat)) {
    const m = median(r.ms);
    if (id !== 'devsup' && Number.isFinite(m) && Number.isFinite(dev) && m < dev) {
      notes.push(`- ${id} restarts faster than devsup after an edit (${Math.round(m)} vs ${Math.round(dev)} ms median): ${why[id] ?? 'see the table'}.`);
    }
  }
  const staleWhy = {
    'node-watch': 'on every restart it drops its list of watched files and relearns it from the new child, so a write that lands in between is not seen',
  };
  for (const [id, r] of Object.entries(res.half ?? {})) {
    if (r.endedStale > 0) notes.push(`- ${id} ended ${r.endedStale} of ${r.trials} half-written trials running code older than the file on disk${staleWhy[id] ? `: ${staleWhy[id]}` : ''}.`);
  }
  for (const [id, r] of Object.entries(res.touch ?? {})) {
    if (id !== 'devsup' && (r.utimes > 0 || r.rewrite > 0)) {
      notes.push(`- ${id} restarted for files whose content did not change (${r.utimes} for mtime-only, ${r.rewrite} for identical rewrites out of ${r.files} each, one every 250 ms).`);
    }
  }
  if (res.scale?.['node-watch']) notes.push('- node --watch scale lines (startup, RSS, idle CPU) are not comparable: it watches 3 files, not the tree.');
  const sc = res.scale ?? {};
  if (sc.devsup && sc.nodemon && sc.nodemon.startupMs < sc.devsup.startupMs) {
    notes.push(`- nodemon reaches the first READY sooner on the big tree (${Math.round(sc.nodemon.startupMs)} vs ${Math.round(sc.devsup.startupMs)} ms): it starts the app while chokidar is still scanning (busy ${Math.round(sc.nodemon.busyAfterReadyMs)} ms after READY), while devsup starts it after loading its own modules and, without a complete saved file index, after its first content snapshot; launches within 20–30 ms of each other are within this machine's noise.`);
  }
  return notes;
}

