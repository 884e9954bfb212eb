// The short table BENCHMARKS.md opens with, read back from the file's own detailed tables, so a run
// of one scenario (`--only python`) and a full run both leave it matching what the file says below.
import { readFileSync, writeFileSync } from 'node:fs';

const BEGIN = '<!-- summary: begin -->';
const END = '<!-- summary: end -->';
const TOOLS = ['devsup', 'nodemon', 'node --watch', 'entr'];

/** The cells of every Markdown table row in `text`, as arrays of trimmed strings. */
function tableRows(text) {
  return text
    .split('\n')
    // A separator row is dashes and colons only; a cell may start with a dash (`--no-tui: cores`).
    .filter((l) => l.startsWith('| ') && !/^\|[\s|:-]+$/.test(l))
    .map((l) => l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim()));
}

/** The value of the main Results table for a metric (by its opening words) and a tool. */
function result(rows, metric, tool) {
  const row = rows.find((r) => r[0]?.startsWith(metric) && r[1] === tool);
  return row?.[2];
}

/** The value of the main Results table for the first metric `match` accepts, and a tool. */
function resultWhere(rows, match, tool) {
  return rows.find((r) => r[0] !== undefined && match(r[0]) && r[1] === tool)?.[2];
}

/** devsup against its peer in the many-workers and flood sections, when the file has them. */
function extraLines(rows) {
  const out = [];
  const many = rows.find((r) => r[0]?.startsWith('Launch → all 20 ready'));
  if (many) out.push('', `- 20 services and 5 tasks under \`devsup up\`: all ready in ${many[1]}; the same 20 started directly: ${many[3]} (target ≤ 1.5×: ${many[5]}).`);
  const key = rows.find((r) => r[0]?.startsWith('dashboard: key → screen'));
  const cores = rows.find((r) => r[0]?.startsWith('--no-tui: cores'));
  const rss = rows.find((r) => r[0]?.startsWith('dashboard: peak RSS'));
  if (key) out.push(`- 10 MB/s of output for 30 s: the dashboard answers a key in ${key[1].replace(/ \((\d+)\),/, ' at p95 of $1 presses,')} ms (target 100 ms); \`--no-tui\` uses ${cores?.[1] ?? '?'} of a core (concurrently ${cores?.[2] ?? '?'}); the dashboard's peak RSS is ${rss?.[1] ?? '?'} (target 150 MB).`);
  return out;
}

export function summaryLines(text) {
  const rows = tableRows(text);
  const floor = result(rows, 'Floor: `node app.js`', 'node (no supervisor)');
  // The Python table: Tool, Settings, Edit → READY (median), p90, Floor before it, …, Ran the old code.
  const pyHead = rows.find((r) => r[0] === 'Tool' && r[2]?.startsWith('Edit → READY'));
  const py = (tool) => (pyHead ? rows.find((r) => r[0] === tool && r.length === pyHead.length && r !== pyHead) : undefined);
  const pyCol = (name) => pyHead?.findIndex((h) => h.startsWith(name)) ?? -1;
  const cell = (v) => v ?? '–';
  const line = (label, f) => `| ${label} | ${TOOLS.map((t) => cell(f(t))).join(' | ')} |`;
  return [
    BEGIN,
    '## Summary',
    '',
    `Each tool on the same projects in the same run (details below; – where a tool was not run or does not do the job). Node floor (\`node app.js\` alone): ${cell(floor)}.`,
    '',
    `| | ${TOOLS.join(' | ')} |`,
    `|---|${TOOLS.map(() => '---').join('|')}|`,
    line('Edit → READY, Node (median)', (t) => result(rows, '1. Latency', t)),
    line('Restarts for 20 `touch`ed files (content unchanged)', (t) => result(rows, '3. Touch: 20 files, mtime only', t)),
    line('Old processes alive after 10 restarts', (t) => result(rows, '5a. Orphans', t)),
    line('Supervisor memory, 100,000-file tree', (t) => (t === 'node --watch' ? 'watches imports only' : result(rows, '6b. Scale: supervisor RSS', t))),
    line('Edit → READY, app requiring 400 modules, settle 100 (median)', (t) => resultWhere(rows, (m) => m.startsWith('1b. Restart') && m.includes('settle 100'), t)),
    line('First READY, fresh 100,000-file checkout (no saved state)', (t) => result(rows, '6a. Scale: launch → first READY, first run in the checkout', t)),
    line('Edit → READY, Python (median)', (t) => py(t)?.[pyCol('Edit → READY')]),
    line('Python edits that still ran the old `.pyc` (of 20)', (t) => py(t)?.[pyCol('Ran the old code')]?.replace(/ of 20 edits$/, '')),
    ...extraLines(rows),
    '',
    'How the numbers were reached, and where the time goes: [docs/performance.md](docs/performance.md).',
    END,
  ];
}

/** Rewrites the summary at the top of `path` (after its title) from the tables the file holds. */
export function writeSummary(path) {
  let text = readFileSync(path, 'utf8');
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a >= 0 && b > a) text = text.slice(0, a) + text.slice(b + END.length).replace(/^\n+/, '');
  const block = summaryLines(text).join('\n');
  const title = text.indexOf('\n');
  text = title >= 0 ? `${text.slice(0, title + 1)}\n${block}\n\n${text.slice(title + 1).replace(/^\n+/, '')}` : `${block}\n\n${text}`;
  writeFileSync(path, text);
}
