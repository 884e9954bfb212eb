import blessed from 'blessed';
import { forTerminal } from '../glyphs.js';

type Box = blessed.Widgets.BoxElement;

export interface Layout {
  list: Box;
  log: Box;
  status: Box;
  help: Box;
  /** Below the list while the config file on disk cannot be applied. */
  banner: Box;
  /** Re-places the panels for the current screen size, worker count and banner lines (0 hides it). */
  place(workers: number, bannerLines?: number): void;
  bannerSize(): { width: number; height: number };
  /** Inner (content) size of the log pane. */
  logSize(): { width: number; height: number };
  listSize(): { width: number; height: number };
  focus(panel: 'list' | 'log'): void;
}

const FOCUSED = 'cyan';
const UNFOCUSED = 'gray';

export const HELP_LINES = [
  'Keys',
  '',
  '  ↑ ↓  j k     select a worker (in the log: scroll)',
  '  Enter  Tab   focus the log; Tab or Esc goes back',
  '  PgUp PgDn    scroll the log; G or End follows the tail',
  '  g Home       oldest line',
  '  w            wrap long lines, or cut them at the edge',
  '  m            release the mouse to select and copy text (m again takes it back)',
  '  /            search the log (Enter jumps, Esc cancels)',
  '  n  N         next older / newer match',
  '  r            restart the selected worker',
  '  a            restart all workers',
  '  s            stop, or start when stopped',
  '  c            clear its caches',
  '  ?            this help (any key closes it)',
  '  q  Ctrl-C    quit (stops every worker)',
];

function box(screen: blessed.Widgets.Screen, opts: blessed.Widgets.BoxOptions): Box {
  // Plain boxes with tags off: child output may contain `{`, and raw SGR colours pass through.
  return blessed.box({ parent: screen, tags: false, wrap: false, scrollable: false, ...opts } as blessed.Widgets.BoxOptions);
}

/** A list panel across the top, the selected worker's log below it, one status line at the bottom. */
export function createLayout(screen: blessed.Widgets.Screen, ascii = false): Layout {
  const border = (fg: string): blessed.Widgets.BoxOptions => ({ border: { type: 'line' }, style: { border: { fg } } });
  const list = box(screen, { top: 0, left: 0, ...border(FOCUSED) });
  const log = box(screen, { left: 0, mouse: true, ...border(UNFOCUSED) });
  const status = box(screen, { left: 0, height: 1 });
  const banner = box(screen, { left: 0, hidden: true, border: { type: 'line' }, style: { border: { fg: 'red' }, fg: 'red' } });
  const help = box(screen, {
    top: 'center',
    left: 'center',
    width: Math.max(...HELP_LINES.map((l) => l.length)) + 4,
    height: HELP_LINES.length + 2,
    border: { type: 'line' },
    padding: { left: 1, right: 1 },
    hidden: true,
    content: forTerminal(HELP_LINES.join('\n'), ascii),
  });

  const place = (workers: number, bannerLines = 0): void => {
    const rows = Math.max(4, screen.height as number);
    const cols = Math.max(10, screen.width as number);
    // Borders and the header take three rows; the list never takes more than about half.
    const listHeight = Math.max(4, Math.min(workers + 3, Math.floor((rows - 1) / 2)));
    list.top = 0;
    list.width = cols;
    list.height = listHeight;
    // The banner takes from the log, which keeps at least three rows.
    const bannerHeight = bannerLines > 0 ? Math.max(0, Math.min(bannerLines + 2, rows - 1 - listHeight - 3)) : 0;
    if (bannerHeight >= 3) {
      banner.top = listHeight;
      banner.width = cols;
      banner.height = bannerHeight;
      banner.show();
    } else banner.hide();
    const taken = banner.hidden ? 0 : bannerHeight;
    log.top = listHeight + taken;
    log.width = cols;
    log.height = Math.max(3, rows - 1 - listHeight - taken);
    status.top = rows - 1;
    status.width = cols;
  };

  // Sizes are read after place() has run: the first render happens before any key is handled.
  const inner = (b: Box): { width: number; height: number } => ({
    width: Math.max(0, (b.width as number) - 2),
    height: Math.max(0, (b.height as number) - 2),
  });

  return {
    list,
    log,
    status,
    help,
    banner,
    place,
    bannerSize: () => inner(banner),
    logSize: () => inner(log),
    listSize: () => inner(list),
    focus(panel) {
      list.style.border.fg = panel === 'list' ? FOCUSED : UNFOCUSED;
      log.style.border.fg = panel === 'log' ? FOCUSED : UNFOCUSED;
    },
  };
}
