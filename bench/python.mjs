// The Python scenario: a service that imports a realistic part of the standard library and 60
// modules of its own, restarted on an edit by each tool; and `devsup flake` against the same number
// of plain runs of a small pytest suite. Run alone with `node bench/run.mjs --only python`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTemp, removeTemp } from './projects.mjs';
import { median } from './stats.mjs';
import { DEVSUP_BIN, NODEMON_BIN, ToolRun, envFor, findOnPath } from './tools.mjs';

export const PY_COUNTS = {
  full: { floor: 10, localFloor: 5, latency: 20, flakeRuns: 20, flakeRounds: 3 },
  quick: { floor: 3, localFloor: 2, latency: 4, flakeRuns: 5, flakeRounds: 1 },
};

/** The standard library a small web service typically loads, about 150 modules in all. */
const STDLIB = [
  'asyncio', 'json', 'logging', 'argparse', 'dataclasses', 'typing', 'datetime', 'decimal', 'pathlib',
  'collections', 'functools', 'itertools', 'http.server', 'http.client', 'urllib.parse', 'urllib.request',
  'email.message', 'email.parser', 'socketserver', 'threading', 'sqlite3', 'csv', 'xml.etree.ElementTree',
  'hashlib', 'base64', 'uuid', 'tempfile', 'shutil', 'subprocess', 'textwrap', 'random', 'statistics',
  'concurrent.futures', 'inspect', 'contextlib', 'enum', 'zipfile', 'gzip', 'configparser', 'html.parser',
];
export const PY_MODULES = 60;

/**
 * The interpreter `python3` on PATH runs, named by its real path: a version manager's shim (pyenv)
 * is a shell script that would add its own start to every measurement, and the tools' PATH puts
 * node's directory first, where a different python3 may live.
 */
export const PYTHON = (() => {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : 'python3';
})();

/**
 * Python children write their bytecode as they would on a developer's machine: this machine's
 * environment may forbid it (PYTHONDONTWRITEBYTECODE), which would leave every tool compiling all
 * of it on every start.
 */
export function pythonEnv() {
  const env = { ...envFor(), PYTHONUNBUFFERED: '1' };
  for (const k of ['PYTHONDONTWRITEBYTECODE', 'PYTHONPYCACHEPREFIX', 'PYTHONPATH', 'SOURCE_DATE_EPOCH']) delete env[k];
  return env;
}

function moduleSource(i) {
  const dep = i > 0 ? `from pkg import m${String(i - 1).padStart(2, '0')} as prev\n` : 'prev = None\n';
  const lines = [`"""Module ${i} of the generated service."""`, 'import dataclasses, json, re, typing', dep];
  lines.push('@dataclasses.dataclass', `class Record${i}:`, '    name: str', '    value: int = 0', '    tags: typing.List[str] = dataclasses.field(default_factory=list)', '');
  lines.push('    def to_json(self) -> str:', '        return json.dumps(dataclasses.asdict(self))', '');
  for (let f = 0; f < 8; f++) {
    lines.push(`def handler_${f}(request: dict) -> dict:`, `    """Handles route ${i}/${f}."""`);
    lines.push(`    m = re.match(r"^/m${i}/(\\d+)$", request.get("path", ""))`, '    if not m:', '        return {"status": 404}');
    lines.push(`    items = [Record${i}(name=str(k), value=k * ${f + 1}) for k in range(int(m.group(1)))]`);
    lines.push('    return {"status": 200, "body": [r.to_json() for r in items if r.value % 2 == 0]}', '');
  }
  return `${lines.join('\n')}\n`;
}

const modSource = (marker) => `MARKER = "${marker}"\n`;

const APP = `import os, sys, time
${STDLIB.map((m) => `import ${m}`).join('\n')}
import pkg.m${String(PY_MODULES - 1).padStart(2, '0')}
import mod
print(f"READY pid={os.getpid()} t={int(time.time() * 1000)} marker={mod.MARKER}", flush=True)
while True:
    time.sleep(3600)
`;

export function pythonProject(dir) {
  writeFileSync(join(dir, 'app.py'), APP);
  mkdirSync(join(dir, 'pkg'), { recursive: true });
  writeFileSync(join(dir, 'pkg', '__init__.py'), '');
  for (let i = 0; i < PY_MODULES; i++) writeFileSync(join(dir, 'pkg', `m${String(i).padStart(2, '0')}.py`), moduleSource(i));
  const modFile = join(dir, 'mod.py');
  writeFileSync(modFile, modSource('start'));
  return { modFile };
}

/** A small pytest suite: five test files of eight tests over a package of ten modules. */
export function pytestProject(dir) {
  mkdirSync(join(dir, 'calc'), { recursive: true });
  mkdirSync(join(dir, 'tests'), { recursive: true });
  writeFileSync(join(dir, 'calc', '__init__.py'), '');
  for (let i = 0; i < 10; i++) {
    writeFileSync(join(dir, 'calc', `ops${i}.py`), `import decimal, fractions\n\ndef add(a, b):\n    return decimal.Decimal(a) + decimal.Decimal(b)\n\ndef ratio(a, b):\n    return fractions.Fraction(a, b)\n`);
  }
  for (let t = 0; t < 5; t++) {
    const tests = Array.from({ length: 8 }, (_, k) => `def test_add_${k}():\n    assert ops${t}.add(${k}, 1) == ${k + 1}\n\ndef test_ratio_${k}():\n    assert ops${t}.ratio(${k}, ${k + 1}) < 1\n`);
    writeFileSync(join(dir, 'tests', `test_ops${t}.py`), `import pytest\nfrom calc import ops${t}\n\n${tests.join('\n')}`);
  }
}

/** The same job for every tool: watch the project's .py files, settle where there is such a setting. */
export function pythonTools({ settle, grace }) {
  const defs = [
    {
      id: 'devsup',
      label: 'devsup',
      settings: () => `devsup run --settle ${settle} --grace ${grace} --ext py -- python3 app.py`,
      argv: () => [DEVSUP_BIN, 'run', '--settle', String(settle), '--grace', String(grace), '--ext', 'py', '--', PYTHON, 'app.py'],
    },
  ];
  if (NODEMON_BIN) {
    defs.push({
      id: 'nodemon',
      label: 'nodemon',
      settings: () => `nodemon --watch . --ext py --delay ${settle}ms --signal SIGTERM --exec python3 app.py`,
      argv: () => [process.execPath, NODEMON_BIN, '--watch', '.', '--ext', 'py', '--delay', `${settle}ms`, '--signal', 'SIGTERM', '--no-colours', '--exec', `${PYTHON} app.py`],
    });
  }
  const entr = findOnPath('entr');
  if (entr) {
    const list = "find . -name .devsup -prune -o -name '*.py' -print";
    defs.push({
      id: 'entr',
      label: 'entr',
      settings: () => `${list} | entr -n -r python3 app.py (no settle setting)`,
      argv: () => ['/bin/sh', '-c', `${list} | exec '${entr}' -n -r '${PYTHON}' app.py`],
    });
  }
  return defs;
}

/** `python3 app.py` spawned directly, spawn → READY, with its __pycache__ as Python leaves it. */
async function floorSamples(dir, n, ctx) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    const run = new ToolRun([PYTHON, 'app.py'], dir, { verbose: ctx.verbose, label: 'python floor', env: pythonEnv() }).start();
    const r = await run.waitReady(() => true, { timeoutMs: 20_000 });
    xs.push(r ? r.t - run.t0 : NaN);
    await run.stop();
  }
  return xs;
}

export async function pythonFloor(ctx) {
  const dir = makeTemp('py-floor');
  try {
    pythonProject(dir);
    // The first start compiles the project into __pycache__, as any first start on a machine does.
    await floorSamples(dir, 1, ctx);
    return await floorSamples(dir, ctx.py.floor, ctx);
  } finally {
    removeTemp(dir);
  }
}

/** Edit → READY showing the edit, against `python3 app.py` measured right before on the same files. */
export async function pythonLatency(ctx, tool) {
  const dir = makeTemp('py-latency');
  try {
    const p = pythonProject(dir);
    await floorSamples(dir, 1, ctx);
    const floorMs = await floorSamples(dir, ctx.py.localFloor, ctx);
    const run = new ToolRun(tool.argv(), dir, { verbose: ctx.verbose, label: tool.id, env: pythonEnv() }).start();
    try {
      // stale: READY lines after an edit that show an older marker: the child ran bytecode of the
      // previous mod.py, which Python trusted because size and whole-second mtime matched.
      const out = { ms: [], restarts: [], timeouts: 0, stale: 0, floorMs, firstMs: NaN };
      const first = await run.waitReady(() => true, { timeoutMs: 60_000 });
      if (!first) return { ...out, failed: run.exited ? `exited: ${run.tail.slice(-3).join(' | ')}` : 'no READY' };
      out.firstMs = first.t - run.t0;
      await run.quiet(500, 3000);
      for (let i = 1; i <= ctx.py.latency; i++) {
        const marker = `P${i}`;
        const from = run.readies.length;
        const t0 = Date.now();
        writeFileSync(p.modFile, modSource(marker));
        const r = await run.waitReady((x) => x.marker === marker, { from, timeoutMs: 8000 });
        if (r) out.ms.push(r.t - t0);
        else out.timeouts++;
        await run.quiet(300, 5000);
        out.restarts.push(run.readies.length - from);
        out.stale += run.readies.slice(from).filter((x) => x.marker !== marker).length;
        if (out.timeouts >= 3 && out.ms.length === 0) break;
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

/** Wall time of one command to its exit; its exit code. */
function timed(argv, cwd, env) {
  return new Promise((resolveRun) => {
    const t0 = performance.now();
    const child = spawn(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolveRun({ ms: performance.now() - t0, code, err: err.slice(-500) }));
  });
}

/**
 * `devsup flake -n N -j 1 -- python3 -m pytest -q` against N plain runs of the same command one
 * after another. Each round is a session on a fresh project (no `.devsup`: its first session, on an
 * empty bytecode directory), a session on the directory that one left (every later session), and N
 * plain runs; rounds alternate so the drift of a shared machine's load spreads over all three.
 */
export async function pythonFlake(ctx) {
  const dir = makeTemp('py-flake');
  const n = ctx.py.flakeRuns;
  const env = pythonEnv();
  const cmd = [PYTHON, '-m', 'pytest', '-q', '-p', 'no:cacheprovider'];
  const session = async () => {
    const r = await timed([process.execPath, DEVSUP_BIN, 'flake', '-n', String(n), '-j', '1', '--', ...cmd], dir, env);
    return r.code === 0 ? r.ms : NaN;
  };
  const plainBatch = async (runs) => {
    const t = performance.now();
    for (let i = 0; i < n; i++) runs.push((await timed(cmd, dir, env)).ms);
    return performance.now() - t;
  };
  const fresh = () => {
    rmSync(join(dir, '.devsup'), { recursive: true, force: true });
    mkdirSync(join(dir, '.devsup'));
  };
  try {
    pytestProject(dir);
    fresh();
    const warm = await timed(cmd, dir, env);
    if (warm.code !== 0) return { failed: `pytest exited ${warm.code}: ${warm.err}` };
    const plainRuns = [];
    const plain = [await plainBatch(plainRuns)];
    const first = [];
    const kept = [];
    for (let round = 0; round < ctx.py.flakeRounds; round++) {
      fresh();
      first.push(await session());
      kept.push(await session());
      plain.push(await plainBatch(plainRuns));
    }
    const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    return { n, rounds: kept.length, plainMs: mean(plain), plainMedianMs: median(plainRuns), coldMs: mean(first), warmMs: mean(kept), firstRatios: first.map((x, i) => x / plain[i + 1]), keptRatios: kept.map((x, i) => x / plain[i + 1]) };
  } finally {
    removeTemp(dir);
  }
}

const fmt = (ms) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');

/** The Markdown section of BENCHMARKS.md this scenario writes, between its markers. */
export function pythonSection({ floorMs, latency, flake, tools, settle, date, loads, cmdline }) {
  const floor = median(floorMs);
  const lines = [
    '## Python: edit → READY, and flake',
    '',
    `Generated by \`${cmdline}\` on ${date}. Load average (1 min) between ${Math.min(...loads).toFixed(2)} and ${Math.max(...loads).toFixed(2)} during this part of the run (2 cores shared with other work).`,
    '',
    `The app imports ${STDLIB.length} standard-library packages (about 150 modules with what they import) and ${PY_MODULES} modules of its own, then prints READY. Floor: \`python3 app.py\` spawned directly with a warm \`__pycache__\`, spawn → READY, median ${fmt(floor)}.`,
    '',
    '| Tool | Settings | Edit → READY (median) | p90 | Floor before it | Over floor | Target (floor + settle + 50 ms) | Restarts per edit | Ran the old code | First READY |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const tool of tools) {
    const r = latency[tool.id];
    if (!r || r.failed) {
      lines.push(`| ${tool.label} | \`${cellText(tool.settings())}\` | failed: ${r?.failed ?? 'not run'} | | | | | | | |`);
      continue;
    }
    const m = median(r.ms);
    const p90 = [...r.ms].sort((a, b) => a - b)[Math.max(0, Math.ceil(r.ms.length * 0.9) - 1)];
    const f = median(r.floorMs);
    const target = f + settle + 50;
    const verdict = tool.id === 'devsup' ? `${fmt(target)} ${m <= target ? 'met' : 'missed'}` : '';
    const restarts = median(r.restarts);
    lines.push(`| ${tool.label} | \`${cellText(tool.settings())}\` | ${fmt(m)} | ${fmt(p90)} | ${fmt(f)} | ${fmt(m - f)} | ${verdict} | ${restarts}${r.timeouts ? `, ${r.timeouts} timeouts` : ''} | ${r.stale} of ${r.restarts.length} edits | ${fmt(r.firstMs)} |`);
  }
  lines.push('');
  if (flake.failed) {
    lines.push(`Flake: failed: ${flake.failed}`);
  } else {
    const limit = flake.plainMs * 1.2;
    const each = (xs) => (xs?.length > 1 ? ` (rounds: ${xs.map((x) => `${x.toFixed(2)}×`).join(', ')})` : '');
    lines.push(
      `\`devsup flake -n ${flake.n} -j 1 -- python3 -m pytest -q -p no:cacheprovider\` on a suite of 5 files, 80 tests, against ${flake.n} plain runs of the same command one after another (median plain run ${fmt(flake.plainMedianMs)}). After a first plain batch, ${flake.rounds} rounds of: a session in the project with its \`.devsup\` removed (a project's first session, on an empty bytecode directory), a session on the directory it left (every later session), ${flake.n} plain runs. The table gives the means; each round's ratio is against the plain batch of the same round:`,
      '',
      `| | Wall time | Per run | × plain | Target (≤ 1.2 × plain) |`,
      '| --- | --- | --- | --- | --- |',
      `| ${flake.n} plain runs | ${fmt(flake.plainMs)} | ${fmt(flake.plainMs / flake.n)} | 1.00× | |`,
      `| flake, first session (fresh project, empty bytecode directory) | ${fmt(flake.coldMs)} | ${fmt(flake.coldMs / flake.n)} | ${ratio(flake.coldMs, flake.plainMs)}${each(flake.firstRatios)} | ${flake.coldMs <= limit ? 'met' : 'missed'} |`,
      `| flake, later session (directory kept) | ${fmt(flake.warmMs)} | ${fmt(flake.warmMs / flake.n)} | ${ratio(flake.warmMs, flake.plainMs)}${each(flake.keptRatios)} | ${flake.warmMs <= limit ? 'met' : 'missed'} |`,
    );
  }
  lines.push(
    '',
    `- \`python3\` is ${PYTHON}, named by its real path in every command (no version-manager shim in between).`,
    '- Python children get `PYTHONDONTWRITEBYTECODE` and `PYTHONPYCACHEPREFIX` removed from the environment, as on a developer machine. Each tool runs on a fresh copy of the project; its first READY includes, for devsup, filling an empty bytecode directory: what the app imports of the standard library is copied from the interpreter’s `__pycache__` while it boots, or compiled where the copy comes too late (later runs of devsup find it there).',
    '- Edit: `mod.py` rewritten with a new marker (`P1`…`P9` are all the same size, as are `P10`…`P20`); time from the write to the READY line (the app\'s own clock) that shows it, waiting at most 8 s. Floor measured right before each tool on the same files.',
    '- "Ran the old code": READY lines after an edit that still show the previous marker. Without a bytecode directory of their own, the children of nodemon and entr use `__pycache__`, and an edit of the same size within the same second as the previous one is served from the old `.pyc`; each such edit is also a timeout in the restarts column, and is left out of the latency.',
  );
  return lines;
}

/** A table cell's text: a `|` would end the cell, even inside backticks. */
function cellText(s) {
  return s.replace(/\|/g, '\\|');
}

/** Where the Python section of BENCHMARKS.md begins and ends. */
export const PYTHON_SECTION = { begin: '<!-- python benchmark: begin -->', end: '<!-- python benchmark: end -->' };


