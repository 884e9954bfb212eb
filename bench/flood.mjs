// Floods of output: one worker printing short lines at 10 MB/s, shown by the dashboard in a real
// pseudo-terminal and by `up --no-tui` into a pipe that is read; then one 5 MB line without a
// newline and random bytes. concurrently runs the same flood as the peer. The child measures its own
// blocked writes, so "never blocked on a full pipe for long" is what the child felt.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cpuBetween, cpuSample, memoryKb } from './proc.mjs';
import { makeTemp, removeTemp } from './projects.mjs';
import { percentile } from './stats.mjs';
import { DEVSUP_BIN, REPO } from './tools.mjs';

const require = createRequire(join(REPO, 'package.json'));
/** Where this scenario's section of BENCHMARKS.md begins and ends. */
export const FLOOD_SECTION = { begin: '<!-- flood: begin -->', end: '<!-- flood: end -->' };
export const FLOOD_TARGETS = { keyP95Ms: 100, cores: 1, rssMb: 150, blockMs: 100 };
const RATE = 10_000_000;
const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// The flooding child. Writes are synchronous, so a write's duration is the time the child was
// blocked on a full pipe; it paces itself every 5 ms to the rate.
const CHILD = `import { writeSync, writeFileSync } from 'node:fs';
const [mode, rate, secs, statsFile] = process.argv.slice(2);
const st = { mode, bytes: 0, lines: 0, maxBlockMs: 0, blockedMs: 0, lastLine: '' };
const nap = new Int32Array(new SharedArrayBuffer(4));
// At most 64 KiB per write: a bigger write would wait for the reader by its size alone.
function put(buf) {
  for (let at = 0; at < buf.length; at += 65536) {
    const piece = buf.subarray(at, at + 65536);
    const t = performance.now();
    for (let off = 0; off < piece.length; ) {
      try { off += writeSync(1, piece, off); } catch (e) { if (e.code !== 'EAGAIN') throw e; Atomics.wait(nap, 0, 0, 1); }
    }
    const ms = performance.now() - t;
    st.maxBlockMs = Math.max(st.maxBlockMs, ms);
    st.blockedMs += ms;
    st.bytes += piece.length;
  }
}
const t0 = performance.now();
const pad = 'x'.repeat(56);
if (mode === 'lines') {
  let seq = 0;
  await new Promise((done) => {
    const tick = () => {
      const el = (performance.now() - t0) / 1000;
      if (el >= Number(secs)) return done();
      const due = Math.min(Number(rate) * el - st.bytes, Number(rate) / 10);
      let text = '';
      while (text.length < due) text += 'flood ' + String(seq++).padStart(9, '0') + ' ' + pad + '\\n';
      if (text) { put(Buffer.from(text)); st.lastLine = 'flood ' + String(seq - 1).padStart(9, '0'); st.lines = seq; }
      setTimeout(tick, 5);
    };
    tick();
  });
} else if (mode === 'bigline') {
  for (let i = 0; i < 80; i++) put(Buffer.alloc(64 * 1024, 'y'));
  put(Buffer.from('\\nafter the long line\\n'));
} else {
  const { randomBytes } = await import('node:crypto');
  const nasty = Buffer.from('\\x00\\x1b[2J\\x1b[H\\x1b]0;title\\x07\\x1b[?1049l\\x1b[?25l\\xff\\xfe\\x1bc\\r\\x1b[31m', 'latin1');
  for (let i = 0; i < 160; i++) { put(randomBytes(32 * 1024)); put(nasty); }
  put(Buffer.from('\\nafter the binary\\n'));
}
st.wallMs = performance.now() - t0;
writeFileSync(statsFile, JSON.stringify(st));
`;

function project(mode, secs) {
  const dir = makeTemp(`flood-${mode}`);
  mkdirSync(join(dir, 'src'));
  writeFileSync(join(dir, 'src', 'a.txt'), 'x\n');
  writeFileSync(join(dir, 'child.mjs'), CHILD);
  const stats = join(dir, 'stats.json');
  const args = ['child.mjs', mode, String(RATE), String(secs), stats];
  // A task: when it ends its output is saved as a task log, which is checked too.
  const config = { workers: [{ name: 'flood', cmd: ['node', ...args], kind: 'task', watch: ['src'] }] };
  writeFileSync(join(dir, 'devsup.config.json'), JSON.stringify(config));
  return { dir, stats, args };
}

/** CPU (all threads) and RSS of one process, sampled until stopped. */
function sampler(pid) {
  const samples = [];
  let peakKb = 0;
  const take = () => {
    const cpu = cpuSample([pid]);
    // A process that has exited (concurrently, once its command ends) has no more samples to give.
    if (cpu.size > 0) samples.push({ t: performance.now(), cpu });
    // VmHWM is the kernel's own peak, between samples too (gone once the process is).
    const m = memoryKb(pid);
    peakKb = Math.max(peakKb, m.rss, m.hwm);
  };
  take();
  const timer = setInterval(take, 100);
  return {
    /** Cores used between `from` (ms since the first sample) and the last sample. */
    stop(fromMs = 1000) {
      clearInterval(timer);
      take();
      if (samples.length === 0) return { cores: NaN, peakMb: peakKb / 1024 };
      const first = samples.find((s) => s.t - samples[0].t >= fromMs) ?? samples[0];
      const last = samples[samples.length - 1];
      const wall = (last.t - first.t) / 1000;
      return { cores: wall > 0 ? cpuBetween(first.cpu, last.cpu) / wall : NaN, peakMb: peakKb / 1024 };
    },
  };
}

async function until(check, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`flood: timed out waiting for ${what}`);
    await delay(50);
  }
}

function stopProc(p) {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const kill = setTimeout(() => p.kill('SIGKILL'), 5000);
    p.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    p.kill('SIGTERM');
  });
}

function devsupLogs(dir) {
  return new Promise((resolve) => {
    const p = spawn(DEVSUP_BIN, ['logs', 'flood', '-n', '100000'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    p.on('exit', () => resolve(out.split('\n').filter((l) => l !== '')));
  });
}

function taskLog(dir) {
  const d = join(dir, '.devsup', 'logs', 'flood');
  if (!existsSync(d)) return undefined;
  const f = readdirSync(d).filter((n) => n.endsWith('.log'));
  return f.length > 0 ? readFileSync(join(d, f[0]), 'utf8').split('\n').filter((l) => l !== '') : undefined;
}

function concurrentlyBin() {
  const dir = join(REPO, 'node_modules', 'concurrently');
  const bin = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).bin;
  return join(dir, typeof bin === 'string' ? bin : bin.concurrently);
}

/** `up --no-tui` into a pipe this process reads as fast as it can (or `cmd` for the peer). */
async function runPiped(ctx, mode, secs, peer = false) {
  const p = project(mode, secs);
  const cmd = peer
    ? [concurrentlyBin(), '--names', 'flood', '--kill-others-on-fail', `node ${p.args.join(' ')}`]
    : [DEVSUP_BIN, 'up', '--no-tui'];
  const proc = spawn(peer ? process.execPath : cmd[0], peer ? cmd : cmd.slice(1), { cwd: p.dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const s = sampler(proc.pid);
  // Read as cheaply as possible: this process shares the two cores with what it measures.
  const NEEDLE = 'lines of output not shown';
  let bytes = 0;
  let markers = 0;
  let tail = '';
  const seen = (d) => {
    bytes += d.length;
    for (let i = d.indexOf(NEEDLE); i >= 0; i = d.indexOf(NEEDLE, i + 1)) markers++;
    const head = d.subarray(0, NEEDLE.length).toString('latin1');
    if (`${tail}${head}`.includes(NEEDLE) && !head.includes(NEEDLE)) markers++;
    tail = d.subarray(Math.max(0, d.length - NEEDLE.length + 1)).toString('latin1');
  };
  proc.stdout.on('data', seen);
  proc.stderr.on('data', seen);
  try {
    await until(() => existsSync(p.stats), (secs + 60) * 1000, `the ${mode} child to finish`);
    const usage = s.stop();
    const child = JSON.parse(readFileSync(p.stats, 'utf8'));
    const r = { ...usage, child, bytes, markers, alive: proc.exitCode === null };
    if (!peer) {
      r.taskLog = await until(() => taskLog(p.dir), 15_000, 'the task log').catch(() => undefined);
      r.logs = await devsupLogs(p.dir);
    }
    ctx.log(`  ${peer ? 'concurrently' : 'devsup --no-tui'} ${mode}: ${usage.cores.toFixed(2)} cores, peak RSS ${usage.peakMb.toFixed(0)} MB, child blocked at most ${child.maxBlockMs.toFixed(1)} ms`);
    return r;
  } finally {
    await stopProc(proc);
    removeTemp(p.dir);
  }
}

/** The dashboard in a pseudo-terminal; `?` opens the help and any key closes it, timed on the screen. */
async function runDashboard(ctx, mode, secs) {
  const pty = require('node-pty');
  const { Terminal } = require('@xterm/headless');
  const p = project(mode, secs);
  const cols = 120;
  const rows = 35;
  const term = new Terminal({ cols, rows, allowProposedApi: true });
  const proc = pty.spawn(DEVSUP_BIN, ['up'], { name: 'xterm-256color', cols, rows, cwd: p.dir, env: { ...process.env, TERM: 'xterm-256color', LC_ALL: 'C.UTF-8' } });
  const screen = () => {
    const b = term.buffer.active;
    let text = '';
    for (let y = 0; y < rows; y++) text += `${b.getLine(b.viewportY + y)?.translateToString(true) ?? ''}\n`;
    return text;
  };
  let waiter;
  let outBytes = 0;
  let exited = false;
  proc.onExit(() => (exited = true));
  proc.onData((d) => {
    outBytes += d.length;
    term.write(d, () => {
      if (waiter && waiter.test(screen())) {
        const w = waiter;
        waiter = undefined;
        w.done(performance.now());
      }
    });
  });
  const press = (key, test, timeoutMs = 5000) =>
    new Promise((resolve) => {
      const t0 = performance.now();
      const timer = setTimeout(() => {
        waiter = undefined;
        resolve(timeoutMs);
      }, timeoutMs);
      waiter = { test, done: (t) => (clearTimeout(timer), resolve(t - t0)) };
      proc.write(key);
    });
  const HELP = 'any key closes it';
  const s = sampler(proc.pid);
  const keyMs = [];
  try {
    await until(() => screen().includes('flood'), 30_000, 'the dashboard');
    while (!existsSync(p.stats)) {
      keyMs.push(await press('?', (t) => t.includes(HELP)));
      await delay(150);
      keyMs.push(await press('x', (t) => !t.includes(HELP)));
      await delay(250);
      if (exited) break;
    }
    const usage = s.stop();
    const child = JSON.parse(readFileSync(p.stats, 'utf8'));
    // Still usable after the flood: the help opens, and the screen still shows the list.
    const after = await press('?', (t) => t.includes(HELP));
    const usable = after < 5000 && screen().includes('flood');
    const r = { ...usage, child, keyMs, keyP95: percentile(keyMs, 95), usable, outMb: outBytes / 1e6 };
    ctx.log(`  dashboard ${mode}: key p95 ${r.keyP95.toFixed(0)} ms over ${keyMs.length}, ${usage.cores.toFixed(2)} cores, peak RSS ${usage.peakMb.toFixed(0)} MB, child blocked at most ${child.maxBlockMs.toFixed(1)} ms`);
    return r;
  } finally {
    proc.write('q');
    const gone = Date.now() + 8000;
    while (!exited && Date.now() < gone) await delay(50);
    if (!exited) proc.kill('SIGKILL');
    removeTemp(p.dir);
  }
}

export async function floodBench(ctx) {
  const secs = ctx.quick ? 8 : 30;
  const res = { secs };
  ctx.log(`flood: dashboard, ${RATE / 1e6} MB/s for ${secs} s`);
  res.dash = await runDashboard(ctx, 'lines', secs);
  ctx.log('flood: --no-tui');
  res.plain = await runPiped(ctx, 'lines', secs);
  ctx.log('flood: concurrently');
  res.peer = await runPiped(ctx, 'lines', secs, true);
  ctx.log('flood: one 5 MB line, then random bytes');
  res.big = await runPiped(ctx, 'bigline', 0);
  res.bin = await runPiped(ctx, 'binary', 0);
  res.binDash = await runDashboard(ctx, 'binary', 0);
  return res;
}

const T = FLOOD_TARGETS;
const pf = (ok) => (ok ? 'PASS' : 'FAIL');
const n0 = (x) => (Number.isFinite(x) ? x.toFixed(0) : '?');
const n2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '?');

export function floodSection(res, { date, cmdline, loads }) {
  const { dash, plain, peer, big, bin, binDash } = res;
  const lastOf = (lines) => lines?.filter((l) => l.includes('flood ')).at(-1) ?? '';
  const logsOk = plain.logs.length >= 5000 && lastOf(plain.logs).includes(plain.child.lastLine);
  const fileOk = (plain.taskLog?.length ?? 0) >= 2000 && lastOf(plain.taskLog).includes(plain.child.lastLine);
  const bigKept = big.logs.some((l) => l.includes('[devsup: line cut at')) && big.logs.some((l) => l.includes('after the long line'));
  const binOk = bin.alive && bin.logs.some((l) => l.includes('after the binary')) && binDash.usable;
  const row = (what, dev, peerText, target, ok) => `| ${what} | ${dev} | ${peerText} | ${target} | ${pf(ok)} |`;
  return [
    '## Floods of output',
    '',
    `Generated by \`${cmdline}\` on ${date}; load average between ${Math.min(...loads).toFixed(2)} and ${Math.max(...loads).toFixed(2)}. One task prints 73-byte lines at ${RATE / 1e6} MB/s for ${res.secs} s (a node child pacing itself every 5 ms; its writes are synchronous, so the longest write is the longest it was blocked on a full pipe). The dashboard runs in a real pseudo-terminal (node-pty, 120×35, screen parsed by @xterm/headless); \`?\` opens the help and the next key closes it, each timed until the screen shows it. \`--no-tui\` and concurrently write into a pipe that is read as fast as it comes. CPU is the supervisor process's CPU time over wall time from 1 s after launch to the child's last line; RSS is its peak (VmHWM, and VmRSS sampled every 100 ms for a process that exits).`,
    '',
    '| | devsup | concurrently 9 (`--names flood`) | target | |',
    '|---|---|---|---|---|',
    row('dashboard: key → screen, p95 (n)', `${n0(dash.keyP95)} ms (${dash.keyMs.length}), max ${n0(Math.max(...dash.keyMs))}`, '–', `≤ ${T.keyP95Ms} ms`, dash.keyP95 <= T.keyP95Ms),
    row('dashboard: cores', n2(dash.cores), '–', `≤ ${T.cores}`, dash.cores <= T.cores),
    row('dashboard: peak RSS', `${n0(dash.peakMb)} MB`, '–', `< ${T.rssMb} MB`, dash.peakMb < T.rssMb),
    row('dashboard: child blocked, longest write', `${n0(dash.child.maxBlockMs)} ms`, '–', `≤ ${T.blockMs} ms`, dash.child.maxBlockMs <= T.blockMs),
    row('--no-tui: cores', n2(plain.cores), n2(peer.cores), `≤ ${T.cores}`, plain.cores <= T.cores),
    row('--no-tui: peak RSS', `${n0(plain.peakMb)} MB`, `${n0(peer.peakMb)} MB`, `< ${T.rssMb} MB`, plain.peakMb < T.rssMb),
    row('--no-tui: child blocked, longest write', `${n0(plain.child.maxBlockMs)} ms`, `${n0(peer.child.maxBlockMs)} ms`, `≤ ${T.blockMs} ms`, plain.child.maxBlockMs <= T.blockMs),
    row('--no-tui: markers of lines dropped for a slow reader', `${plain.markers}`, 'never drops', 'counted', true),
    row('`devsup logs` after the flood: lines, newest kept', `${plain.logs.length}, ${lastOf(plain.logs).includes(plain.child.lastLine) ? 'yes' : 'no'}`, '–', '5000 newest', logsOk),
    row('task log file: lines, newest kept', `${plain.taskLog?.length ?? 0}, ${lastOf(plain.taskLog).includes(plain.child.lastLine) ? 'yes' : 'no'}`, '–', '2000 newest (1 MiB)', fileOk),
    row('one 5 MB line: peak RSS, cut with a marker', `${n0(big.peakMb)} MB, ${bigKept ? 'yes' : 'no'}`, '–', `< ${T.rssMb} MB`, big.peakMb < T.rssMb && bigKept),
    row('5 MB of random bytes and escapes: peak RSS, alive, dashboard usable', `${n0(Math.max(bin.peakMb, binDash.peakMb))} MB, ${bin.alive ? 'yes' : 'no'}, ${binDash.usable ? 'yes' : 'no'}`, '–', `< ${T.rssMb} MB`, Math.max(bin.peakMb, binDash.peakMb) < T.rssMb && binOk),
    '',
    `Bytes through: the child wrote ${n0(plain.child.bytes / 1e6)} MB under \`--no-tui\` (${n0(peer.child.bytes / 1e6)} MB under concurrently), blocked ${n0(plain.child.blockedMs)} ms in all (${n0(peer.child.blockedMs)} ms; ${n0(dash.child.blockedMs)} ms under the dashboard); the dashboard wrote ${n2(dash.outMb)} MB to its terminal for ${n0(dash.child.bytes / 1e6)} MB of child output. process-compose is not on npm, and not in Debian bookworm (\`apt-cache policy process-compose\` after \`apt-get update\` knows no such package).`,
  ];
}

