// Turns raw measurements into one row per tool per metric, marks devsup's line against its
// targets, and writes BENCHMARKS.md. Hand-written notes below KEEP_MARKER survive a rerun.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { restartRows } from './restart.mjs';
import { median, percentile } from './stats.mjs';

export const KEEP_MARKER = '<!-- Everything below this line is kept when the benchmark rewrites this file. -->';

const ms = (v) => (v === undefined || !Number.isFinite(v) ? '–' : `${Math.round(v)} ms`);
const num = (v, d = 0) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));
const mark = (ok) => (ok === undefined ? '' : ok ? 'PASS' : 'FAIL');

/**
 * `results[scenario][toolId]` holds what scenarios.mjs returned; `tools` says which were run.
 * Returns { rows, verdicts }.
 */
export function buildRows({ tools, results, floorMs, versionMs, settle, grace, orphanGrace, scaleInfo }) {
  const rows = [];
  const localFloors = Object.values(results.latency ?? {}).flatMap((r) => r.floorMs ?? []);
  const allFloors = [...floorMs, ...localFloors];
  const floorMed = median(allFloors);
  const add = (r) => rows.push(r);
  const label = (id) => tools.find((t) => t.id === id)?.label ?? id;
  const isDevsup = (id) => id === 'devsup';

  add({ metric: 'Floor: `node app.js` spawn → READY', tool: 'node (no supervisor)', median: ms(floorMed), p95: ms(percentile(allFloors, 95)), detail: `n=${allFloors.length} (${floorMs.length} at the start, the rest right before each tool's latency run)` });

  // Startup
  add({ metric: '`--version` wall time', tool: 'devsup', median: ms(median(versionMs.devsup)), p95: ms(percentile(versionMs.devsup, 95)), detail: `n=${versionMs.devsup.length}; bare \`node -e 0\`: ${ms(median(versionMs.node))}` });
  if (versionMs.nodemon.length > 0) {
    add({ metric: '`--version` wall time', tool: 'nodemon', median: ms(median(versionMs.nodemon)), p95: ms(percentile(versionMs.nodemon, 95)), detail: `n=${versionMs.nodemon.length}` });
  }
  for (const [id, r] of Object.entries(results.startup ?? {})) {
    const med = median(r.ms);
    add({
      metric: 'Launch → first READY (small project)',
      tool: label(id),
      median: failedOr(r, ms(med)),
      p95: ms(percentile(r.ms, 95)),
      detail: `n=${r.ms.filter(Number.isFinite).length}; above floor: ${ms(med - floorMed)}`,
    });
  }

  // Latency
  const nodeWatchLat = median(results.latency?.['node-watch']?.ms ?? []);
  for (const [id, r] of Object.entries(results.latency ?? {})) {
    const med = median(r.ms);
    const local = median(r.floorMs ?? []) ?? floorMed;
    const perEdit = r.restarts.length > 0 ? r.restarts.reduce((a, b) => a + b, 0) / r.restarts.length : NaN;
    const row = {
      metric: '1. Latency: edit → READY with new marker',
      tool: label(id),
      median: failedOr(r, r.ms.length === 0 ? 'timeout' : ms(med)),
      p95: ms(percentile(r.ms, 95)),
      detail: `n=${r.ms.length}, timeouts=${r.timeouts}; floor right before: ${ms(local)}, above it: ${ms(med - local)}; restarts per edit: ${num(perEdit, 2)}`,
    };
    if (isDevsup(id)) {
      const limit = local + settle + 25;
      row.target = `≤ floor + settle + 25 = ${ms(limit)}; ≤ node --watch (${ms(nodeWatchLat)})`;
      row.pass = r.ms.length > 0 && r.timeouts === 0 && med <= limit && (!Number.isFinite(nodeWatchLat) || med <= nodeWatchLat);
    }
    add(row);
  }

  for (const row of restartRows(results.restart, label)) add(row);

  // Burst
  for (const [id, r] of Object.entries(results.burst ?? {})) {
    const row = {
      metric: '2. Burst: 300 files in ~50 ms → restarts',
      tool: label(id),
      median: failedOr(r, num(median(r.restarts))),
      p95: num(percentile(r.restarts, 95)),
      detail: `bursts=${r.restarts.length} [${r.restarts.join(', ')}]; last READY saw all 300: ${r.complete.filter(Boolean).length}/${r.complete.length}; burst start → last READY ${ms(median(r.toFinalMs))}; writes spread ${ms(median(r.spreadMs))}`,
    };
    if (isDevsup(id)) {
      row.target = 'exactly 1, with all 300 files loaded';
      row.pass = !r.failed && r.restarts.length > 0 && r.restarts.every((n) => n === 1) && r.complete.every(Boolean);
    }
    add(row);
  }

  // Touch
  for (const [id, r] of Object.entries(results.touch ?? {})) {
    for (const variant of ['utimes', 'rewrite']) {
      const what = variant === 'utimes' ? 'mtime only (`touch`)' : 'rewritten with identical bytes';
      const row = {
        metric: `3. Touch: ${r.files ?? '?'} files, ${what} → restarts`,
        tool: label(id),
        median: failedOr(r, num(r[variant])),
        p95: '',
        detail: `one file every 250 ms, then quiet for the straggler wait`,
      };
      if (isDevsup(id)) {
        row.target = '0';
        row.pass = !r.failed && r[variant] === 0;
      }
      add(row);
    }
  }

  // Half-written
  for (const [id, r] of Object.entries(results.half ?? {})) {
    const bad = r.partial + r.crashed;
    const row = {
      metric: '4. Half-written: restarts that loaded the first part (or crashed on it)',
      tool: label(id),
      median: failedOr(r, `${bad}`),
      p95: '',
      detail: `trials=${r.trials}: PARTIAL loaded ${r.partial}×, crashed on empty/partial file ${r.crashed}×; trials ending on stale/partial code: ${r.endedStale}; restarts per trial median ${num(median(r.restarts))}`,
    };
    if (isDevsup(id)) {
      row.target = '0';
      row.pass = !r.failed && r.trials > 0 && bad === 0 && r.endedStale === 0;
    }
    add(row);
  }

  // Orphans
  const goneLimit = settle + orphanGrace + 150;
  for (const [id, r] of Object.entries(results.orphans ?? {})) {
    const row = {
      metric: '5a. Orphans: old-generation processes alive after the restarts',
      tool: label(id),
      median: failedOr(r, `${r.survivors}`),
      p95: '',
      detail: `restarts=${r.restarts}, timeouts=${r.timeouts}; killed by the benchmark afterwards: ${r.killed}`,
    };
    if (isDevsup(id)) {
      row.target = '0';
      row.pass = !r.failed && r.restarts > 0 && r.survivors === 0;
    }
    add(row);
    const gone = {
      metric: '5b. Orphans: change → old tree (child + grandchild) gone',
      tool: label(id),
      median: failedOr(r, r.goneMs.length === 0 ? 'never' : ms(median(r.goneMs))),
      p95: ms(percentile(r.goneMs, 95)),
      detail: `gone ${r.goneMs.length}/${r.goneMs.length + r.neverGone}${r.neverGone ? `, still alive ${r.neverGone}× when checked` : ''}`,
    };
    if (isDevsup(id)) {
      gone.target = `≤ settle + grace (${orphanGrace} ms) + 150 = ${ms(goneLimit)}`;
      gone.pass = !r.failed && r.neverGone === 0 && r.goneMs.length > 0 && percentile(r.goneMs, 95) <= goneLimit;
    }
    add(gone);
  }

  // Scale
  const nodemonStart = results.scale?.nodemon?.startupMs;
  for (const [id, r] of Object.entries(results.scale ?? {})) {
    const comparable = tools.find((t) => t.id === id)?.watchesTree !== false;
    const nc = comparable ? '' : ' (not comparable: watches only the 3 imported files)';
    const starts = r.starts ?? [r.startupMs];
    const failedStarts = r.startFailures ? `, ${r.startFailures} without READY` : '';
    const s = {
      metric: '6a. Scale: launch → first READY',
      tool: label(id),
      median: failedOr(r, ms(r.startupMs)),
      p95: ms(percentile(starts, 95)),
      detail: `n=${starts.length}${failedStarts}; busy for ${ms(r.busyAfterReadyMs)} after READY${nc}`,
    };
    if (isDevsup(id)) {
      s.target = `≤ 1500 ms and ≤ nodemon (${ms(nodemonStart)})`;
      s.pass = !r.failed && !r.startFailures && r.startupMs <= 1500 && (!Number.isFinite(nodemonStart) || r.startupMs <= nodemonStart);
    }
    add(s);
    // A first run in a checkout has no saved index; nodemon keeps none, so its every launch is one.
    const firsts = r.firstRuns ?? (r.firstRunMs !== undefined ? [r.firstRunMs] : undefined);
    if (firsts || id === 'nodemon') {
      const f = {
        metric: '6a. Scale: launch → first READY, first run in the checkout',
        tool: label(id),
        median: firsts ? (Number.isFinite(r.firstRunMs) ? ms(r.firstRunMs) : 'failed') : failedOr(r, ms(r.startupMs)),
        p95: ms(percentile(firsts ?? starts, 95)),
        detail: firsts
          ? `n=${firsts.length}; no saved file index (each launch after removing .devsup): started before any file is read, then every file is read once`
          : `n=${starts.length}; keeps no index: every launch is a first run (the same launches as the line above)`,
      };
      if (isDevsup(id) && firsts) {
        f.target = `≤ 600 ms and ≤ nodemon (${ms(nodemonStart)})`;
        f.pass = firsts.every(Number.isFinite) && r.firstRunMs <= 600 && (!Number.isFinite(nodemonStart) || r.firstRunMs <= nodemonStart);
      }
      add(f);
    }
    const m = { metric: '6b. Scale: supervisor RSS after idle', tool: label(id), median: failedOr(r, `${num(r.rssKb / 1024, 1)} MB`), p95: '', detail: `peak (VmHWM) ${num(r.hwmKb / 1024, 1)} MB over ${r.supervisorProcs ?? '?'} process(es)${nc}` };
    if (isDevsup(id)) {
      m.target = '< 120 MB';
      m.pass = !r.failed && r.rssKb / 1024 < 120;
    }
    add(m);
    const c = { metric: '6c. Scale: supervisor CPU while idle', tool: label(id), median: failedOr(r, `${num(r.idleCpuPct, 2)} %`), p95: '', detail: `CPU time of all its threads (schedstat) over ${num(scaleInfo.idleMs / 1000)} s, % of one core${nc}` };
    if (isDevsup(id)) {
      c.target = '< 1 % of a core';
      c.pass = !r.failed && r.idleCpuPct < 1;
    }
    add(c);
    add({
      metric: '6d. Scale: edit deep in the tree → READY',
      tool: label(id),
      median: failedOr(r, r.editMs.length === 0 ? 'timeout' : ms(median(r.editMs))),
      p95: ms(percentile(r.editMs, 95)),
      detail: `n=${r.editMs.length}, timeouts=${r.timeouts}${comparable ? '' : ' (watches the edited file directly, so this line is comparable)'}`,
    });
  }
  return rows;
}

function failedOr(r, text) {
  return r.failed ? 'failed' : text;
}

export function markdownTable(rows) {
  const head = '| Metric | Tool | Median / value | p95 | Detail | devsup target | devsup |\n|---|---|---|---|---|---|---|';
  const esc = (s) => String(s ?? '').replace(/\|/g, '\\|');
  const body = rows.map((r) => `| ${esc(r.metric)} | ${esc(r.tool)} | ${esc(r.median)} | ${esc(r.p95)} | ${esc(r.detail)} | ${esc(r.target)} | ${mark(r.pass)} |`);
  return [head, ...body].join('\n');
}

/** A narrow plain-text table for the terminal. */
export function consoleTable(rows) {
  const cols = [
    ['Metric', (r) => r.metric.replace(/`/g, '')],
    ['Tool', (r) => r.tool],
    ['Median', (r) => r.median],
    ['p95', (r) => r.p95],
    ['devsup', (r) => mark(r.pass)],
  ];
  const cells = rows.map((r) => cols.map(([, f]) => String(f(r) ?? '')));
  const widths = cols.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (vals) => vals.map((v, i) => v.padEnd(widths[i])).join('  ');
  return [line(cols.map(([h]) => h)), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function writeMarkdown(path, { header, rows, settingsLines, methodLines, notes }) {
  let kept = '';
  if (existsSync(path)) {
    const old = readFileSync(path, 'utf8');
    const at = old.indexOf(KEEP_MARKER);
    if (at >= 0) kept = old.slice(at + KEEP_MARKER.length).replace(/^\n+/, '');
  }
  const failing = rows.filter((r) => r.pass === false).map((r) => `- ${r.metric.replace(/^\S+ /, '')}`);
  const text = [
    '# Benchmarks',
    '',
    ...header,
    '',
    '## Settings',
    '',
    ...settingsLines,
    '',
    '## Results',
    '',
    markdownTable(rows),
    '',
    `devsup misses ${failing.length} target(s)${failing.length ? ':' : '.'}`,
    ...failing,
    '',
    '## How each number is measured',
    '',
    ...methodLines,
    '',
    ...(notes.length ? ['## Notes from this run', '', ...notes, ''] : []),
    KEEP_MARKER,
    '',
    kept,
  ].join('\n');
  writeFileSync(path, text.endsWith('\n') ? text : `${text}\n`);
}
