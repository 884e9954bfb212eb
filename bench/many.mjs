// Many workers: 20 small HTTP services and 5 tasks under `devsup up`, against the same 20 servers
// spawned directly in parallel (the floor) and under concurrently when it is installed. Then one
// edit in a directory 10 of the services watch: each of them must restart exactly once, a
// dependant only after what it depends on is ready again.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cpuBetween, cpuSample, identify, memoryKb, signalId, treeOf } from './proc.mjs';
import { makeTemp, removeTemp } from './projects.mjs';
import { median } from './stats.mjs';
import { DEVSUP_BIN, REPO, ToolRun, envFor, sleep } from './tools.mjs';

export const MANY = { services: 20, tasks: 5, shared: 10 };
const COUNTS = {
  quick: { launches: 1, floors: 2, idleMs: 2_000, edits: 1 },
  full: { launches: 5, floors: 5, idleMs: 10_000, edits: 3 },
};

const CONCURRENTLY_BIN = (() => {
  try {
    // The package exports no subpaths: its bin is found next to its package.json.
    const pkg = createRequire(join(REPO, 'package.json')).resolve('concurrently/package.json');
    const bin = JSON.parse(readFileSync(pkg, 'utf8')).bin.concurrently;
    return join(pkg, '..', bin);
  } catch {
    return undefined;
  }
})();

const svcName = (i) => `s${String(i).padStart(2, '0')}`;
/**
 * s00..s07 and the tasks t0 (waits for s00) and t1 (waits for s03) watch shared/ besides their own
 * directory: ten workers, two of them ordered after a service. The services do not wait for each
 * other, so their launch can be compared with the same servers spawned at once.
 */
const SHARED_SERVICES = MANY.shared - 2;
const TASK_DEPS = [['s00'], ['s03'], ['s15'], [], []];
const TASK_SHARED = [true, true, false, false, false];

/** Fixed per service, so the floor and every tool start the same servers with the same delays. */
function delays(n) {
  let x = 0x2545f491;
  const out = [];
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out.push(50 + ((x >>> 0) % 200));
  }
  return out;
}

export async function freePorts(n) {
  const ports = [];
  const servers = [];
  for (let i = 0; i < n; i++) {
    const s = createServer();
    await new Promise((r) => s.listen(0, '127.0.0.1', r));
    ports.push(s.address().port);
    servers.push(s);
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export function manyProject(dir, ports) {
  const wait = delays(MANY.services);
  mkdirSync(join(dir, 'shared'), { recursive: true });
  writeFileSync(join(dir, 'shared', 'lib.mjs'), 'export const v = 0;\n');
  const workers = [];
  for (let i = 0; i < MANY.services; i++) {
    const name = svcName(i);
    const d = join(dir, 'svc', name);
    mkdirSync(d, { recursive: true });
    const shared = i < SHARED_SERVICES;
    writeFileSync(
      join(d, 'main.mjs'),
      [
        "import { createServer } from 'node:http';",
        shared ? "import { v } from '../../shared/lib.mjs';" : 'const v = 0;',
        // Some work before listening, as a real service reads its config or connects somewhere.
        `setTimeout(() => createServer((q, s) => s.end(String(v))).listen(${ports[i]}, '127.0.0.1'), ${wait[i]});`,
        '',
      ].join('\n'),
    );
    workers.push({
      name,
      cmd: ['node', 'main.mjs'],
      cwd: `svc/${name}`,
      watch: shared ? ['.', '../../shared'] : ['.'],
      ready: { port: ports[i], host: '127.0.0.1' },
    });
  }
  for (let k = 0; k < MANY.tasks; k++) {
    const name = `t${k}`;
    mkdirSync(join(dir, 'tasks', name), { recursive: true });
    writeFileSync(join(dir, 'tasks', name, 'check.mjs'), `${TASK_SHARED[k] ? "import '../../shared/lib.mjs';\n" : ''}console.log('${name} ok');\n`);
    workers.push({
      name,
      kind: 'task',
      cmd: ['node', 'check.mjs'],
      cwd: `tasks/${name}`,
      watch: TASK_SHARED[k] ? ['.', '../../shared'] : ['.'],
      ...(TASK_DEPS[k].length > 0 ? { dependsOn: TASK_DEPS[k] } : {}),
    });
  }
  writeFileSync(join(dir, 'devsup.config.json'), JSON.stringify({ defaults: { settle: 100, grace: 3000, ext: ['mjs', 'js', 'json'] }, workers }, null, 2));
  return { dir, ports, workers };
}

/** Ports in LISTEN state on 127.0.0.1 now, from the kernel's table: one read, no connection attempts. */
function listeningPorts() {
  const open = new Set();
  let text;
  try {
    text = readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return open;
  }
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[3] === '0A' && f[1]?.startsWith('0100007F:')) open.add(parseInt(f[1].slice(9), 16));
  }
  return open;
}

async function allListening(ports, t0, timeoutMs) {
  while (Date.now() - t0 < timeoutMs) {
    const open = listeningPorts();
    if (ports.every((p) => open.has(p))) return Date.now() - t0;
    await sleep(5);
  }
  return NaN;
}

function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** The tool's own processes: its tree minus every app (a `node main.mjs`) and what those started. */
function supervisorPids(rootPid) {
  const tree = treeOf(rootPid);
  const apps = new Set();
  for (const r of tree) if (/\0main\.mjs\0?$/.test(cmdline(r.pid))) for (const a of treeOf(r.pid)) apps.add(a.pid);
  return tree.filter((r) => !apps.has(r.pid)).map((r) => r.pid);
}

/** CPU over idleMs and RSS of the supervisor's own processes, once it has gone quiet (≤ 2 % for 1 s). */
async function idleAndMemory(rootPid, idleMs) {
  for (let k = 0; k < 30; k++) {
    const a = cpuSample(supervisorPids(rootPid));
    await sleep(1000);
    if (cpuBetween(a, cpuSample(supervisorPids(rootPid))) < 0.02) break;
  }
  const pids = supervisorPids(rootPid);
  const c0 = cpuSample(pids);
  const w0 = performance.now();
  await sleep(idleMs);
  const idleCpuPct = (cpuBetween(c0, cpuSample(pids)) / ((performance.now() - w0) / 1000)) * 100;
  let rssKb = 0;
  for (const pid of supervisorPids(rootPid)) rssKb += memoryKb(pid).rss;
  return { idleCpuPct, rssKb, procs: pids.length };
}

/** The 20 servers spawned directly, all at once: launch → every port accepting. */
async function floorOnce(p) {
  const t0 = Date.now();
  const kids = p.workers
    .filter((w) => w.ready)
    .map((w) => spawn(process.execPath, ['main.mjs'], { cwd: join(p.dir, w.cwd), stdio: 'ignore', env: envFor() }));
  const ids = kids.map((k) => identify(k.pid)).filter(Boolean);
  try {
    return await allListening(p.ports, t0, 30_000);
  } finally {
    await Promise.all(kids.map((k) => new Promise((r) => (k.exitCode !== null || k.signalCode !== null ? r() : (k.once('exit', r), k.kill('SIGTERM'))))));
    for (const id of ids) signalId(id, 'SIGKILL');
  }
}

/** One JSON event stream of `devsup up`, each event with its arrival order and time. */
function devsupRun(p) {
  const run = new ToolRun([DEVSUP_BIN, 'up', '--json', '--no-tui'], p.dir, { label: 'devsup up' });
  run.events = [];
  run.on('line', (stream, text, now) => {
    if (stream !== 'out' || !text.startsWith('{')) return;
    try {
      const e = JSON.parse(text);
      if (e.type !== 'output') run.events.push({ ...e, at: now });
    } catch {
      // not an event
    }
  });
  return run.start();
}

function waitEvents(run, pred, timeoutMs) {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      if (pred(run.events) || run.exited) done();
    }, 5);
    const to = setTimeout(done, timeoutMs);
    function done() {
      clearInterval(t);
      clearTimeout(to);
      resolve(pred(run.events));
    }
  });
}

const services = (p) => p.workers.filter((w) => w.ready).map((w) => w.name);
const tasks = (p) => p.workers.filter((w) => w.kind === 'task').map((w) => w.name);

/** Launch → ports open, → devsup's ready events for all 20, → every task passed. */
async function devsupLaunch(p, measure) {
  const run = devsupRun(p);
  const out = { portsMs: NaN, readyMs: NaN, tasksMs: NaN };
  try {
    out.portsMs = await allListening(p.ports, run.t0, 30_000);
    const readyAll = (ev) => services(p).every((n) => ev.some((e) => e.type === 'ready' && e.worker === n));
    if (await waitEvents(run, readyAll, 30_000)) out.readyMs = Math.max(...services(p).map((n) => run.events.find((e) => e.type === 'ready' && e.worker === n).at)) - run.t0;
    const passed = (ev) => tasks(p).every((n) => ev.some((e) => e.type === 'task-finished' && e.worker === n && e.result === 'passed'));
    if (await waitEvents(run, passed, 30_000)) out.tasksMs = Math.max(...tasks(p).map((n) => run.events.find((e) => e.type === 'task-finished' && e.worker === n).at)) - run.t0;
    if (!Number.isFinite(out.readyMs) || !Number.isFinite(out.tasksMs)) out.tail = run.tail.slice(-10);
    if (measure) Object.assign(out, await measure(run));
  } finally {
    const st = await run.stop(5000);
    out.forced = st.forced;
    out.left = st.left.length;
  }
  return out;
}

/**
 * Rewrites shared/lib.mjs and reads what followed from the events: which workers started a new
 * generation (how often), and whether each dependant started only after its dependency was ready
 * on the new code.
 */
async function sharedEdit(run, p, k) {
  await sleep(500);
  const from = run.events.length;
  const t0 = Date.now();
  writeFileSync(join(p.dir, 'shared', 'lib.mjs'), `export const v = ${k};\n`);
  const shared = p.workers.filter((w) => w.watch?.includes('../../shared')).map((w) => w.name);
  const after = () => run.events.slice(from);
  const started = (n) => after().filter((e) => e.type === 'worker-started' && e.worker === n);
  const kindOf = new Map(p.workers.map((w) => [w.name, w.kind ?? 'service']));
  // A service is back once ready, a task once a run finished.
  const back = (e, n) => e.worker === n && (kindOf.get(n) === 'task' ? e.type === 'task-finished' : e.type === 'ready');
  await waitEvents(run, () => shared.every((n) => after().some((e) => back(e, n))), 30_000);
  // Stragglers: a second restart would come within a settle window or two.
  let n = -1;
  while (run.events.length !== n) {
    n = run.events.length;
    await sleep(1500);
  }
  const ev = after();
  const counts = Object.fromEntries(p.workers.map((w) => [w.name, started(w.name).length]));
  let orderViolations = 0;
  for (const w of p.workers) {
    for (const d of w.dependsOn ?? []) {
      if (!shared.includes(d)) continue;
      const depReady = ev.findIndex((e) => back(e, d));
      for (const s of ev.map((e, i) => ({ e, i })).filter(({ e }) => e.type === 'worker-started' && e.worker === w.name)) if (depReady < 0 || s.i < depReady) orderViolations++;
    }
  }
  const lastReady = Math.max(...shared.map((x) => ev.findLast((e) => back(e, x))?.at ?? NaN));
  const failed = ev.filter((e) => e.type === 'task-finished' && e.result !== 'passed').map((e) => `${e.worker} ${e.result}`);
  return {
    sharedOnce: shared.filter((x) => counts[x] === 1).length,
    sharedCount: shared.length,
    others: p.workers.filter((w) => !shared.includes(w.name) && !(w.dependsOn ?? []).some((d) => shared.includes(d)) && counts[w.name] > 0).map((w) => w.name),
    failed,
    orderViolations,
    allReadyMs: lastReady - t0,
  };
}

async function concurrentlyLaunch(p, measure) {
  const cmds = p.workers.filter((w) => w.ready).map((w) => `cd ${w.cwd} && exec node main.mjs`);
  const run = new ToolRun([process.execPath, CONCURRENTLY_BIN, ...cmds], p.dir, { label: 'concurrently' }).start();
  const out = { portsMs: NaN };
  try {
    out.portsMs = await allListening(p.ports, run.t0, 30_000);
    if (measure) Object.assign(out, await measure(run));
  } finally {
    const st = await run.stop(5000);
    out.forced = st.forced;
    out.left = st.left.length;
  }
  return out;
}

export async function many(ctx) {
  const c = ctx.quick ? COUNTS.quick : COUNTS.full;
  const dir = makeTemp('many');
  const res = { floorMs: [], devsup: [], concurrently: [], edits: [], counts: c, loads: [] };
  try {
    const p = manyProject(dir, await freePorts(MANY.services));
    const measure = async (run) => idleAndMemory(run.pid, c.idleMs);
    // Interleaved, so a change in the machine's load falls on every tool alike.
    for (let k = 0; k < Math.max(c.launches, c.floors); k++) {
      if (k < c.floors) {
        ctx.log(`many: floor ${k + 1}`);
        res.floorMs.push(await floorOnce(p));
      }
      if (k < c.launches) {
        ctx.log(`many: devsup up ${k + 1}`);
        const last = k === c.launches - 1;
        res.devsup.push(
          await devsupLaunch(p, last ? async (run) => {
            const m = await idleAndMemory(run.pid, c.idleMs);
            for (let e = 1; e <= c.edits; e++) res.edits.push(await sharedEdit(run, p, e));
            return m;
          } : undefined),
        );
        if (CONCURRENTLY_BIN) {
          ctx.log(`many: concurrently ${k + 1}`);
          res.concurrently.push(await concurrentlyLaunch(p, last ? measure : undefined));
        }
      }
    }
  } finally {
    removeTemp(dir);
  }
  return res;
}

/** Where this scenario's section of BENCHMARKS.md begins and ends. */
export const MANY_SECTION = { begin: '<!-- many workers: begin -->', end: '<!-- many workers: end -->' };
const ms = (x) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'failed');
const mb = (kb) => (Number.isFinite(kb) ? `${(kb / 1024).toFixed(0)} MB` : '–');
const pct = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} %` : '–');

export function manySection(res, { date, cmdline, loads }) {
  const floor = median(res.floorMs);
  const dev = median(res.devsup.map((r) => r.readyMs));
  const devPorts = median(res.devsup.map((r) => r.portsMs));
  const devTasks = median(res.devsup.map((r) => r.tasksMs));
  const conc = median(res.concurrently.map((r) => r.portsMs));
  const lastDev = res.devsup.at(-1) ?? {};
  const lastConc = res.concurrently.at(-1) ?? {};
  const ratio = dev / floor;
  // Each launch against the floor taken just before it: a change in the machine's load between the
  // two halves of the run moves both.
  const paired = median(res.devsup.map((r, k) => r.readyMs / res.floorMs[k]));
  const editOk = res.edits.length > 0 && res.edits.every((e) => e.sharedOnce === e.sharedCount && e.orderViolations === 0 && e.others.length === 0 && e.failed.length === 0);
  const pass = (ok) => (ok ? 'PASS' : 'FAIL');
  const left = [...res.devsup, ...res.concurrently].reduce((s, r) => s + (r.left ?? 0), 0);
  return [
    '## Many workers',
    '',
    `Generated by \`${cmdline}\` on ${date}; load average (1 min) between ${Math.min(...loads).toFixed(2)} and ${Math.max(...loads).toFixed(2)}.`,
    `${MANY.services} services (\`node main.mjs\`, an HTTP server listening on its own port after a fixed 50–250 ms delay, \`ready: { port }\`) and ${MANY.tasks} tasks (\`node check.mjs\`; t0 depends on s00, t1 on s03, t2 on s15). s00–s07, t0 and t1 also watch \`shared/\`. Floor: the same 20 servers spawned directly at once (${res.floorMs.length}×). Launch → all 20 ports listening is read from /proc/net/tcp every 5 ms for every tool; medians of ${res.devsup.length} launches, interleaved with the floor and the peer.`,
    '',
    '| Metric | devsup up | concurrently | Floor (direct spawn) | Target | Result |',
    '|---|---|---|---|---|---|',
    `| Launch → all 20 ready (devsup's ready events) | ${ms(dev)} (${Number.isFinite(ratio) ? ratio.toFixed(2) : '?'}× floor; launch by launch, median ${Number.isFinite(paired) ? paired.toFixed(2) : '?'}×) | – (no readiness) | ${ms(floor)} | ≤ 1.5 × floor | ${pass(ratio <= 1.5)} |`,
    `| Launch → all 20 ports listening | ${ms(devPorts)} | ${res.concurrently.length ? ms(conc) : 'not installed'} | ${ms(floor)} | | |`,
    `| Launch → all 5 tasks passed | ${ms(devTasks)} | – | | | |`,
    `| Supervisor RSS (tree minus the apps) | ${mb(lastDev.rssKb)} (${lastDev.procs ?? '?'} proc.) | ${mb(lastConc.rssKb)} (${lastConc.procs ?? '?'} proc.) | | reported | |`,
    `| Idle CPU (${res.counts.idleMs / 1000} s, schedstat) | ${pct(lastDev.idleCpuPct)} | ${pct(lastConc.idleCpuPct)} | | reported | |`,
    `| Edit in shared/ (${res.edits.length}×): the 10 workers watching it started once each, t0 and t1 only after s00 and s03 were ready again, nothing else restarted | ${res.edits.map((e) => `${e.sharedOnce}/${e.sharedCount} once, ${e.orderViolations} out of order${e.others.length ? `, also ${e.others.join(' ')}` : ''}${e.failed.length ? `, ${e.failed.join(' ')}` : ''}`).join('; ') || 'not run'} | – (does not watch) | | once each, in order | ${pass(editOk)} |`,
    `| Edit in shared/ → all 10 ready or passed again (median) | ${ms(median(res.edits.map((e) => e.allReadyMs)))} | | | | |`,
    `| Processes left after stop | ${res.devsup.reduce((s, r) => s + (r.left ?? 0), 0)} | ${res.concurrently.reduce((s, r) => s + (r.left ?? 0), 0)} | | 0 | ${pass(left === 0)} |`,
    '',
    '- concurrently does the launch job (start 20 commands in parallel, prefix their output) but knows no readiness, no dependencies and watches no files: its line is launch → ports only. process-compose, which does all three, is not on npm or in Debian here.',
    `- Single launches: floor ${res.floorMs.map(ms).join(', ')}; devsup ready ${res.devsup.map((r) => ms(r.readyMs)).join(', ')}; concurrently ports ${res.concurrently.map((r) => ms(r.portsMs)).join(', ') || '–'}.`,
  ];
}

