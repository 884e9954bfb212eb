// The compiled dashboard against a fake SupervisorApi, run inside a pseudo-terminal by the tests.
// Environment: DASH_MODULE (compiled index.js), DASH_CALLS (api calls are appended here as JSON
// lines), DASH_CTL (a Unix socket path on which the test sends commands, one JSON per line).
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { pathToFileURL } from 'node:url';

const { DASH_MODULE, DASH_CALLS, DASH_CTL } = process.env;
if (!DASH_MODULE || !DASH_CALLS || !DASH_CTL) throw new Error('harness needs DASH_MODULE, DASH_CALLS and DASH_CTL');
const { startDashboard } = await import(pathToFileURL(DASH_MODULE).href);

const record = (call, args) => appendFileSync(DASH_CALLS, `${JSON.stringify({ call, args, t: Date.now() })}\n`);
const delay = (ms) => new Promise((r) => setTimeout(r, ms));
const iso = (ms) => new Date(ms).toISOString();

// A real idle child, so the web row has a process tree to measure.
const sleeper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
record('child', [sleeper.pid]);

const t0 = Date.now();
const view = (name, kind, extra) => ({
  name,
  kind,
  state: 'running',
  generation: 1,
  pid: null,
  startedAt: iso(t0 - 65_000),
  codeId: 'c1',
  verdict: 'fresh',
  staleFiles: [],
  staleSince: null,
  ready: true,
  restarts: 0,
  lastExit: null,
  lastTask: null,
  taskHistory: [],
  message: null,
  ...extra,
});
const workers = [
  view('api', 'service', { pid: process.pid }),
  view('web', 'service', { pid: sleeper.pid, ready: false }),
  view('unit', 'task', {
    state: 'exited',
    pid: null,
    startedAt: null,
    lastExit: { code: 0, signal: null },
    lastTask: { result: 'passed', durationMs: 1234, code: 0, generation: 4, codeId: 'c0ffee' },
    taskHistory: ['passed', 'failed', 'passed', 'cancelled', 'passed'].map((result) => ({ result, durationMs: 1000 })),
  }),
];
const find = (name) => {
  const w = workers.find((x) => x.name === name);
  if (!w) throw new Error(`no worker ${name}`);
  return w;
};

const listeners = new Set();
const emit = (e) => {
  for (const l of listeners) l(e);
};
const backlog = new Map(workers.map((w) => [w.name, []]));
const line = (worker, text, stream = 'stdout') => {
  const w = find(worker);
  const b = backlog.get(worker);
  b.push({ generation: w.generation, stream, text, t: Date.now() });
  if (b.length > 20_000) b.splice(0, 10_000);
  emit({ type: 'output', worker, generation: w.generation, stream, line: text });
};
for (let i = 1; i <= 30; i++) backlog.get('api').push({ generation: 1, stream: 'stdout', text: `api boot line ${i}`, t: t0 });

const started = (w, reason) => {
  w.generation++;
  w.state = 'running';
  w.verdict = 'fresh';
  w.staleFiles = [];
  w.staleSince = null;
  w.startedAt = iso(Date.now());
  emit({ type: 'worker-started', worker: w.name, generation: w.generation, pid: w.pid ?? 0, codeId: `c${w.generation}`, startedAt: w.startedAt, spawnMs: 12, restart: { reason, stopMs: 120 } });
};

const api = {
  snapshot: () => ({ version: 'test', pid: process.pid, root: '/tmp/harness', holds: [], workers: workers.map((w) => ({ ...w })) }),
  subscribe(listener) {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
  async restart(names) {
    record('restart', names);
    const list = names === 'all' ? workers.map((w) => w.name) : names;
    for (const name of list) {
      const w = find(name);
      w.state = 'stopping';
      emit({ type: 'stopping', worker: name, generation: w.generation, pid: w.pid ?? 0, reason: 'manual', signal: 'SIGTERM' });
    }
    await delay(400);
    for (const name of list) {
      const w = find(name);
      w.restarts++;
      started(w, 'manual');
      line(name, `${name} generation ${w.generation} listening`);
    }
  },
  async stop(name) {
    record('stop', name);
    const w = find(name);
    w.state = 'stopping';
    await delay(100);
    Object.assign(w, { state: 'idle', pid: null, verdict: 'none', ready: false });
    emit({ type: 'stopped', worker: name, generation: w.generation, how: 'signal', durationMs: 100, treeSize: 1, survivors: 0 });
  },
  async start(name) {
    record('start', name);
    const w = find(name);
    w.state = 'starting';
    emit({ type: 'worker-starting', worker: name, generation: w.generation + 1, reason: 'manual' });
    await delay(100);
    w.pid = name === 'web' ? sleeper.pid : process.pid;
    started(w, 'manual');
  },
  async clearCaches(name) {
    record('clearCaches', name);
    return { paths: ['/tmp/c1', '/tmp/c2', '/tmp/c3'], bytes: 12_288 };
  },
  logs: (name, n) => (backlog.get(name) ?? []).slice(-n),
  hold: () => () => undefined,
  waitFresh: async () => ({ ok: true, tasks: [], waiting: [] }),
  async shutdown() {
    record('shutdown', []);
    // Long enough for a test to see the dashboard say it is stopping.
    await delay(400);
  },
};

/** Emits `count` lines as evenly as it can over `ms`, yielding to the event loop between batches. */
async function flood(worker, count, ms) {
  const began = Date.now();
  const pad = 'x'.repeat(80);
  let sent = 0;
  while (sent < count) {
    const due = Math.min(count, Math.ceil((count * (Date.now() - began + 10)) / ms));
    for (; sent < due; sent++) line(worker, `flood ${sent} ${pad}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - began;
}

const commands = {
  lines: (c) => c.lines.forEach((t) => line(c.worker, t, c.stream)),
  patch(c) {
    Object.assign(find(c.worker), c.patch);
    if (c.event) emit(c.event);
  },
  event: (c) => emit(c.event),
  flood: async (c) => ({ ms: await flood(c.worker, c.count, c.ms) }),
  stats: () => ({ render: dash.renderStats(), rss: process.memoryUsage().rss }),
  crash(c) {
    setImmediate(() => {
      throw new Error(c.message);
    });
  },
};

const socks = new Set();
const server = createServer((sock) => {
  socks.add(sock);
  sock.on('close', () => socks.delete(sock));
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk) => {
    buf += chunk;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const cmd = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      Promise.resolve(commands[cmd.op](cmd)).then(
        (result) => sock.write(`${JSON.stringify({ id: cmd.id, ok: true, result: result ?? null })}\n`),
        (err) => sock.write(`${JSON.stringify({ id: cmd.id, ok: false, error: String(err) })}\n`),
      );
    }
  });
  sock.on('error', () => undefined);
});
server.listen(DASH_CTL);

const dash = await startDashboard(api, { title: 'harness', scrollback: Number(process.env.DASH_SCROLLBACK ?? 5000) });
record('started', []);
const how = await dash.closed;
record('closed', how);
await api.shutdown();
record('renderStats', dash.renderStats());
dash.destroy();
dash.destroy();
server.close();
for (const s of socks) s.destroy();
const gone = new Promise((resolve) => sleeper.once('exit', resolve));
sleeper.kill();
await gone;
process.stdout.write(`harness: dashboard closed (${how}), terminal restored\n`);
