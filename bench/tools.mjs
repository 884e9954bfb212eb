// The tools under test and one running instance of a tool. Each tool runs in a process group of
// its own; stopping it signals that group and every process found below it, by pid and start time.
import { spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aliveId, identify, isLive, readStat, signalGroup, signalId, treeOf } from './proc.mjs';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEVSUP_BIN = join(REPO, 'bin', 'devsup.js');
const require = createRequire(join(REPO, 'package.json'));
export const NODEMON_BIN = (() => {
  try {
    return require.resolve('nodemon/bin/nodemon.js');
  } catch {
    return undefined;
  }
})();

/** The extensions every tool is restricted to, nodemon's own defaults. */
export const EXT = 'js,mjs,cjs,json';

export function findOnPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function versions() {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  let nodemon = 'not installed';
  try {
    nodemon = JSON.parse(readFileSync(require.resolve('nodemon/package.json'), 'utf8')).version;
  } catch {
    // reported as missing
  }
  let entr;
  const entrBin = findOnPath('entr');
  if (entrBin) {
    // entr prints "release: X" in its usage text and exits non-zero.
    const r = spawnSync(entrBin, [], { encoding: 'utf8' });
    entr = /release:\s*(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
  }
  return { node: process.version, devsup: pkg.version, nodemon, entr };
}

/**
 * How each tool is told to do the same job: watch the project directory, count the same
 * extensions, settle bursts for the same time where it has such a setting, stop with SIGTERM.
 */
export function toolDefs({ settle, grace }) {
  const node = process.execPath;
  const defs = [
    {
      id: 'devsup',
      label: 'devsup',
      settings: (o = {}) => `devsup run --settle ${o.settle ?? settle} --grace ${o.grace ?? grace} --ext ${EXT} -- node app.js`,
      // Started as the installed `devsup` command starts: through the script's own #! line.
      argv: (o = {}) => [DEVSUP_BIN, 'run', '--settle', String(o.settle ?? settle), '--grace', String(o.grace ?? grace), '--ext', EXT, '--', 'node', 'app.js'],
      watchesTree: true,
      // Saves its file states in .devsup/ of the project: a second launch reads only what changed.
      savesIndex: true,
    },
  ];
  if (NODEMON_BIN) {
    defs.push({
      id: 'nodemon',
      label: 'nodemon',
      // nodemon's default stop signal is SIGUSR2; SIGTERM makes the orphan scenario the same test for everyone.
      settings: () => `nodemon --watch . --ext ${EXT} --delay ${settle}ms --signal SIGTERM --no-colours app.js`,
      argv: () => [node, NODEMON_BIN, '--watch', '.', '--ext', EXT, '--delay', `${settle}ms`, '--signal', 'SIGTERM', '--no-colours', 'app.js'],
      watchesTree: true,
    });
  }
  defs.push({
    id: 'node-watch',
    label: 'node --watch',
    settings: () => 'node --watch app.js (watches the files app.js imports; fixed 200 ms debounce)',
    argv: () => [node, '--watch', 'app.js'],
    watchesTree: false,
  });
  const entr = findOnPath('entr');
  if (entr) {
    const names = EXT.split(',').map((e) => `-name '*.${e}'`).join(' -o ');
    const list = `find . -type d \\( -name node_modules -o -name .git \\) -prune -o -type f \\( ${names} \\) -print`;
    defs.push({
      id: 'entr',
      label: 'entr',
      settings: () => `${list} | entr -n -r node app.js (no settle setting)`,
      argv: () => ['/bin/sh', '-c', `${list} | exec '${entr}' -n -r node app.js`],
      watchesTree: true,
    });
  }
  return defs;
}

/** How a generation that loaded an empty or cut-off module dies. */
const CRASH_RE = /SyntaxError|does not provide an export/;
const READY_RE = /READY pid=(\d+) t=(\d+) marker=(\S+?)(?: gc=(\d+))?$/;

/** Every run ever started, so an interrupted benchmark can still kill what it started. */
const allRuns = new Set();
/** Processes the apps reported (children, grandchildren), tracked beyond their tool's lifetime. */
const reported = new Map();

export function envFor() {
  const binDir = dirname(process.execPath);
  return {
    ...process.env,
    // The `node` the tools start must be the node this benchmark runs on.
    PATH: `${binDir}${delimiter}${process.env.PATH ?? ''}`,
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    NODE_OPTIONS: '',
  };
}

export class ToolRun extends EventEmitter {
  constructor(argv, cwd, { verbose = false, label = argv[0], env } = {}) {
    super();
    this.env = env;
    this.setMaxListeners(0);
    this.argv = argv;
    this.cwd = cwd;
    this.label = label;
    this.verbose = verbose;
    this.readies = [];
    this.tail = [];
    this.exited = false;
    this.exitInfo = undefined;
    this.crashLines = 0;
  }

  start() {
    this.t0 = Date.now();
    this.child = spawn(this.argv[0], this.argv.slice(1), {
      cwd: this.cwd,
      env: this.env ?? envFor(),
      detached: true,
      // An open stdin that never speaks, as in a terminal nobody types in.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.pid = this.child.pid;
    this.id = identify(this.pid) ?? { pid: this.pid, start: undefined };
    allRuns.add(this);
    this.child.on('error', (err) => this.finish({ error: err.message }));
    this.child.on('exit', (code, signal) => this.finish({ code, signal }));
    this.child.stdin.on('error', () => undefined);
    this.lines(this.child.stdout, 'out');
    this.lines(this.child.stderr, 'err');
    return this;
  }

  finish(info) {
    if (this.exited) return;
    this.exited = true;
    this.exitInfo = info;
    this.emit('change');
  }

  lines(stream, name) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const now = Date.now();
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        this.line(name, buf.slice(0, nl).replace(/\r$/, ''), now);
        buf = buf.slice(nl + 1);
      }
    });
  }

  line(stream, text, now) {
    if (this.verbose) process.stderr.write(`  [${this.label} ${stream}] ${text}\n`);
    this.emit('line', stream, text, now);
    this.tail.push(`${stream}: ${text}`);
    if (this.tail.length > 60) this.tail.shift();
    if (CRASH_RE.test(text)) this.crashLines++;
    const m = READY_RE.exec(text);
    if (!m) return;
    const r = { pid: Number(m[1]), t: Number(m[2]), marker: m[3], gc: m[4] ? Number(m[4]) : undefined, seen: now };
    // Identified on receipt: the app may be gone by the time anyone asks.
    r.id = identify(r.pid);
    r.gcId = r.gc ? identify(r.gc) : undefined;
    for (const id of [r.id, r.gcId]) if (id) reported.set(`${id.pid}:${id.start}`, id);
    this.readies.push(r);
    this.emit('change');
  }

  get last() {
    return this.readies[this.readies.length - 1];
  }

  /** The first READY at index >= from that satisfies pred, or undefined after timeoutMs (or if the tool exits). */
  waitReady(pred, { from = 0, timeoutMs }) {
    return new Promise((resolveWait) => {
      let timer;
      const check = () => {
        for (let i = from; i < this.readies.length; i++) {
          if (pred(this.readies[i])) return done(this.readies[i]);
        }
        if (this.exited) done(undefined);
      };
      const done = (r) => {
        clearTimeout(timer);
        this.off('change', check);
        resolveWait(r);
      };
      timer = setTimeout(() => done(undefined), timeoutMs);
      this.on('change', check);
      check();
    });
  }

  /** Resolves once no READY has arrived for quietMs (stragglers), or after maxMs in all. */
  quiet(quietMs, maxMs) {
    return new Promise((resolveQuiet) => {
      const deadline = Date.now() + maxMs;
      let timer;
      const arm = () => {
        clearTimeout(timer);
        const wait = Math.min(quietMs, deadline - Date.now());
        if (wait <= 0 || this.exited) return finish();
        timer = setTimeout(finish, wait);
      };
      const finish = () => {
        clearTimeout(timer);
        this.off('change', arm);
        resolveQuiet();
      };
      this.on('change', arm);
      arm();
    });
  }

  /** The tool's own processes: its tree minus the tree of the app generation it runs now. */
  supervisorPids() {
    const tree = treeOf(this.pid);
    const app = this.last?.pid;
    const appTree = new Set(app ? treeOf(app).map((r) => r.pid) : []);
    return tree.filter((r) => !appTree.has(r.pid)).map((r) => r.pid);
  }

  /** SIGTERM to the group, SIGKILL to the group and every straggler after killAfterMs. */
  async stop(killAfterMs = 3000) {
    allRuns.delete(this);
    const members = treeOf(this.pid).map((r) => ({ pid: r.pid, start: r.start }));
    const pgid = readStat(this.pid)?.pgid === this.pid ? this.pid : undefined;
    if (pgid) signalGroup(pgid, 'SIGTERM');
    else signalId(this.id, 'SIGTERM');
    const pending = () => members.some(aliveId) || !this.exited;
    const deadline = Date.now() + killAfterMs;
    while (Date.now() < deadline && pending()) await sleep(25);
    const forced = pending();
    if (forced) {
      if (pgid && isLive(readStat(this.pid))) signalGroup(pgid, 'SIGKILL');
      for (const m of members) signalId(m, 'SIGKILL');
      const hard = Date.now() + 2000;
      while (Date.now() < hard && pending()) await sleep(25);
    }
    this.child.stdin.destroy();
    this.child.stdout.destroy();
    this.child.stderr.destroy();
    return { forced, left: members.filter(aliveId) };
  }
}

/** Kills, by recorded identity, every app process that is still alive (end of run, or interruption). */
export function killReported(sig = 'SIGKILL') {
  let n = 0;
  for (const id of reported.values()) if (signalId(id, sig)) n++;
  return n;
}

/** Synchronous last resort for exit handlers: SIGKILL every group and process this benchmark started. */
export function emergencyKill() {
  for (const run of allRuns) {
    const members = treeOf(run.pid);
    if (readStat(run.pid)?.pgid === run.pid) signalGroup(run.pid, 'SIGKILL');
    for (const r of members) signalId({ pid: r.pid, start: r.start }, 'SIGKILL');
  }
  allRuns.clear();
  killReported('SIGKILL');
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
