// A real supervisor with its control server, built from the compiled dist/ (run `npm run build`),
// started the way run/up are meant to start it. Usage: node harness.mjs <spec.json>
// Prints every event as a JSON line on stdout, then {"type":"harness-ready",...} once serving.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dist = new URL('../../dist/', import.meta.url);
const load = (p) => import(new URL(p, dist).href);
const [{ Bus }, { Supervisor }, { jsonView }, { startControlServer }, { recordChildren, recoverLeftovers }] = await Promise.all([
  load('core/bus.js'),
  load('supervisor/supervisor.js'),
  load('views/json.js'),
  load('control/server.js'),
  load('control/children.js'),
]);

const spec = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const root = spec.root;
const name = spec.name ?? 'default';

const entries = spec.workers.map((w) => ({
  spec: {
    name: w.name,
    command: w.command,
    cwd: root,
    env: w.env ?? {},
    kind: w.kind ?? 'service',
    onExit: w.onExit ?? 'wait',
    restartOnChange: w.restartOnChange ?? true,
    signal: 'SIGTERM',
    graceMs: w.graceMs ?? 2000,
    clear: { enabled: false, roots: [root], presets: [], globs: [] },
    python: false,
    stateDir: join(root, '.devsup'),
    stdin: 'ignore',
    output: 'pipe',
    ready: w.ready?.log ? { log: new RegExp(w.ready.log) } : undefined,
  },
  watch: {
    roots: (w.watch ?? ['.']).map((p) => join(root, p)),
    ignore: w.ignore ?? [],
    settleMs: spec.settleMs ?? 100,
    backend: spec.backend,
    // The first look waits until this file exists, so a test can act while it is under way.
    beforeFirstLook: spec.lookGate ? () => untilExists(spec.lookGate) : undefined,
  },
}));

const out = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const bus = new Bus();
bus.on(jsonView(process.stdout));
const sup = new Supervisor(bus, entries, { root, version: 'test' });

let server;
let recorder;
try {
  server = await startControlServer(sup, { root, name });
  const { stopped } = await recoverLeftovers(root, name, { graceMs: 1000 });
  recorder = recordChildren(sup, root, name, { refreshMs: spec.childrenRefreshMs ?? 200 });
  const starting = sup.startAll();
  // A held first look holds the start up: ready as soon as the control server can answer.
  if (spec.lookGate) starting.catch((err) => process.stderr.write(`harness-error: ${err.message}\n`));
  else await starting;
  // Before the ready line: a test may signal the moment it reads it, and a loaded machine can run
  // the test before this process gets to its next statement.
  onStopSignals();
  out({ type: 'harness-ready', socketPath: server.socketPath, pid: process.pid, recovered: stopped });
} catch (err) {
  process.stderr.write(`harness-error: ${err.message}\n`);
  await sup.shutdown();
  await server?.close();
  process.exit(err.exitCode ?? 70);
}

async function untilExists(file) {
  while (!existsSync(file)) await new Promise((r) => setTimeout(r, 20));
}

function onStopSignals() {
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, async () => {
      if (stopping) return;
      stopping = true;
      bus.emit({ type: 'shutdown', signal: sig });
      await sup.shutdown();
      await recorder.close();
      await server.close();
      out({ type: 'harness-stopped' });
      process.exitCode = 0;
    });
  }
}
