import type { EventOf } from '../../core/events.js';
import { describeListeners } from '../../core/events.js';
import type { WorkerView } from '../../supervisor/api.js';
import { fit, stripSgr, visibleWidth } from './ansi.js';
import { durationSparkline, failingTestsText, formatCpu, formatMem, stateWord, taskMarks, uptime, verdictWord, type Tone, type Word } from './format.js';
import type { TreeStats } from './proc-stats.js';

export interface ListRow {
  view: WorkerView;
  stats: TreeStats | undefined;
  /** The dashboard saw a restart of this worker begin and not yet end. */
  restarting: boolean;
  /** Per-test counts of a task's runs on its current code, when it has a JUnit report. */
  tests?: EventOf<'task-tests'>;
}

export interface ListModel {
  rows: ListRow[];
  selected: number;
  /** The list has the keyboard (the selection is drawn in inverse video). */
  focused: boolean;
  now: number;
  /** False off Linux: CPU and memory show `-`. */
  statsSupported: boolean;
}

type CellTone = Tone | 'marks';
interface Cell {
  text: string;
  tone: CellTone;
}

interface Column {
  title: string;
  min: number;
  max: number;
  align: 'left' | 'right';
  /** Narrow screens drop columns with the highest rank first; 0 is never dropped. A flaky task's failing tests outrank CPU and memory. */
  dropRank: number;
  /** Long text that is worth keeping cut short: counts at its minimum when columns are dropped. */
  shrinks?: boolean;
  cell(r: ListRow, m: ListModel): Cell;
}

const MAX_MARKS = 10;

const COLUMNS: Column[] = [
  { title: 'NAME', min: 4, max: 18, align: 'left', dropRank: 0, cell: (r) => ({ text: r.view.name, tone: 'plain' }) },
  { title: 'STATE', min: 7, max: 24, align: 'left', dropRank: 0, cell: (r) => stateWord(r.view, { restarting: r.restarting }) },
  { title: 'CODE', min: 5, max: 20, align: 'left', dropRank: 0, cell: (r, m) => verdictWord(r.view, m.now) },
  { title: 'PORTS', min: 5, max: 24, align: 'left', dropRank: 2, cell: (r) => ({ text: r.view.pid === null ? '' : describeListeners(r.view.listening), tone: 'plain' }) },
  { title: 'UP', min: 5, max: 6, align: 'right', dropRank: 3, cell: (r, m) => plainWord(uptime(r.view, m.now)) },
  { title: 'PID', min: 3, max: 7, align: 'right', dropRank: 4, cell: (r) => plainWord(r.view.pid === null ? '-' : String(r.view.pid)) },
  { title: 'CPU', min: 4, max: 5, align: 'right', dropRank: 5, cell: (r, m) => plainWord(stat(m, r, (s) => formatCpu(s.cpu))) },
  { title: 'MEM', min: 4, max: 6, align: 'right', dropRank: 6, cell: (r, m) => plainWord(stat(m, r, (s) => formatMem(s.rss))) },
  { title: '↻', min: 2, max: 4, align: 'right', dropRank: 7, cell: (r) => ({ text: String(r.view.restarts), tone: 'plain' }) },
  { title: 'RECENT', min: 2, max: MAX_MARKS, align: 'left', dropRank: 9, cell: (r) => ({ text: taskMarks(r.view.taskHistory, MAX_MARKS), tone: 'marks' }) },
  { title: 'TIMES', min: 5, max: MAX_MARKS, align: 'left', dropRank: 10, cell: (r) => ({ text: durationSparkline(r.view.taskHistory, MAX_MARKS), tone: 'dim' }) },
  { title: 'FAILING TESTS', min: 14, max: 48, align: 'left', dropRank: 4.5, shrinks: true, cell: (r) => testsCell(r) },
];

function testsCell(r: ListRow): Cell {
  const text = failingTestsText(r.tests);
  return { text, tone: r.tests && r.tests.failing.length > 0 ? 'bad' : 'dim' };
}

function plainWord(text: string): Word {
  return { text, tone: 'plain' };
}

function stat(m: ListModel, r: ListRow, f: (s: TreeStats) => string): string {
  if (!m.statsSupported || r.view.pid === null || !r.stats) return '-';
  return f(r.stats);
}

const TONES: Record<Tone, string> = { ok: '\x1b[32m', warn: '\x1b[1;33m', bad: '\x1b[31m', busy: '\x1b[36m', dim: '\x1b[90m', plain: '' };
const MARK_TONES: Record<string, string> = { '✔': '\x1b[32m', '✘': '\x1b[31m', '⊘': '\x1b[33m' };

function paint(c: Cell, width: number, align: 'left' | 'right'): string {
  const text = fit(c.text, width, align);
  if (c.tone === 'marks') return [...text].map((ch) => (MARK_TONES[ch] ? `${MARK_TONES[ch]}${ch}\x1b[0m` : ch)).join('');
  const on = TONES[c.tone];
  return on ? `${on}${text}\x1b[0m` : text;
}

const GAP = 2;
const MARKER = 2;

/** Chooses which columns fit and how wide each is, dropping the least useful first. */
function layoutColumns(m: ListModel, width: number): { col: Column; width: number }[] {
  const cols = COLUMNS.filter((c) => {
    if (c.title === 'RECENT' || c.title === 'TIMES') return m.rows.some((r) => r.view.taskHistory.length > 0);
    if (c.title === 'FAILING TESTS') return m.rows.some((r) => r.tests !== undefined);
    if (c.title === 'PORTS') return m.rows.some((r) => r.view.pid !== null && describeListeners(r.view.listening) !== '');
    return true;
  });
  const natural = (c: Column): number => {
    const cells = m.rows.map((r) => visibleWidth(c.cell(r, m).text));
    return Math.min(c.max, Math.max(c.min, visibleWidth(c.title), ...cells));
  };
  let sized = cols.map((col) => ({ col, width: natural(col) }));
  const total = (least = false): number =>
    MARKER + sized.reduce((n, s) => n + (least && s.col.shrinks ? s.col.min : s.width), 0) + GAP * (sized.length - 1);
  while (total(true) > width) {
    const victim = sized.reduce<(typeof sized)[number] | null>((best, s) => (s.col.dropRank > (best?.col.dropRank ?? 0) ? s : best), null);
    if (!victim) break;
    sized = sized.filter((s) => s !== victim);
  }
  // Still too wide: squeeze the words, rightmost first, down to their minimum.
  for (let i = sized.length - 1; i >= 0 && total() > width; i--) {
    const s = sized[i]!;
    s.width = Math.max(s.col.min, s.width - (total() - width));
  }
  return sized;
}

/** The list as lines of exactly `width` columns: a header, then as many rows as fit `height`. */
export function renderList(m: ListModel, width: number, height: number): string[] {
  if (width <= 0 || height <= 0) return [];
  const cols = layoutColumns(m, width);
  const gap = ' '.repeat(GAP);
  const header = ' '.repeat(MARKER) + cols.map((c) => fit(c.col.title, c.width, c.col.align)).join(gap);
  const lines = [`\x1b[90m${fit(header, width)}\x1b[0m`];
  const room = Math.max(1, height - 1);
  // Keep the selection in view when there are more workers than rows.
  const first = Math.min(Math.max(0, m.selected - room + 1), Math.max(0, m.rows.length - room));
  for (let i = first; i < Math.min(m.rows.length, first + room); i++) {
    const r = m.rows[i]!;
    const selected = i === m.selected;
    const cells = cols.map((c) => ({ cell: c.col.cell(r, m), width: c.width, align: c.col.align }));
    if (selected) {
      const plain = '› ' + cells.map((c) => fit(stripSgr(c.cell.text), c.width, c.align)).join(gap);
      lines.push(`${m.focused ? '\x1b[7m' : '\x1b[1m'}${fit(plain, width)}\x1b[0m`);
    } else {
      const row = ' '.repeat(MARKER) + cells.map((c) => paint(c.cell, c.width, c.align)).join(gap);
      lines.push(fit(row, width));
    }
  }
  return lines;
}
