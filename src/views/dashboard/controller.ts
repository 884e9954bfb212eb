import { basename } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { DevsupEvent, EventOf } from '../../core/events.js';
import type { SupervisorApi, SupervisorSnapshot, WorkerView } from '../../supervisor/api.js';
import { truncate } from './ansi.js';
import { loopSentence } from '../format.js';
import { forTerminal } from '../glyphs.js';
import { Commands } from './commands.js';
import type { KeyActions } from './keys.js';
import type { Layout } from './layout.js';
import { LogStore, logLabel, renderLog, type WorkerLog } from './log-pane.js';
import { ProcSampler, procStatsSupported } from './proc-stats.js';
import { LogSearch, type SearchNote } from './search.js';
import { StatusLine } from './status.js';
import { renderList } from './worker-list.js';
import { describePortTaken } from '../format.js';

const WHEEL_LINES = 3;

/**
 * The dashboard's state: the latest snapshot, the logs, what is selected and searched. It turns
 * events and keys into that state and the state into box contents; it decides nothing about the
 * workers, every key ends in an api call.
 */
export class Controller implements KeyActions {
  readonly logs: LogStore;
  readonly status = new StatusLine();
  readonly sampler: ProcSampler;
  private readonly commands: Commands;
  private snap: SupervisorSnapshot;
  private snapStale = false;
  private selectedName: string | null = null;
  private panel: 'list' | 'log' = 'list';
  private readonly finder = new LogSearch();
  private quitting = false;
  private readonly shown = new Map<object, string>();
  private readonly labels = new Map<object, string>();
  /** The latest per-test counts of each task (from `task-tests` events; not in the snapshot). */
  private readonly tests = new Map<string, EventOf<'task-tests'>>();
  /** Why the config file on disk is not what runs; empty while it is. */
  private configProblems: string[] = [];
  private configFile = '';
  private wrap = false;
  private mouseOn = true;

  constructor(
    private readonly api: SupervisorApi,
    private readonly layout: Layout,
    private readonly opts: { title: string; scrollback: number; changed: () => void; quit: () => void; force?: () => void; ascii: boolean; mouse?: (on: boolean) => void },
  ) {
    this.logs = new LogStore(opts.scrollback);
    this.commands = new Commands(api, this.status, () => {
      this.snapStale = true;
      opts.changed();
    });
    this.snap = api.snapshot();
    for (const w of this.snap.workers) {
      const log = this.logs.get(w.name);
      try {
        log.fill(api.logs(w.name, opts.scrollback));
      } catch (err) {
        // Without its backlog a pane is still worth having: live output follows.
        log.note(`── earlier output unavailable: ${errorMessage(err)} ──`);
      }
    }
    this.selectedName = this.snap.workers[0]?.name ?? null;
    this.sampler = new ProcSampler({ onSample: () => opts.changed() });
    this.sampler.watch(this.snap.workers.flatMap((w) => (w.pid === null ? [] : [w.pid])));
  }

  /** Returns whether the screen needs a render; output of a worker not shown needs none. */
  onEvent(e: DevsupEvent): boolean {
    this.logs.ingest(e);
    if (e.type === 'output') return e.worker === this.selectedName;
    if (e.type === 'shutdown') this.commands.quit();
    this.snapStale = true;
    switch (e.type) {
      case 'worker-starting':
        if (e.reason !== 'initial') this.commands.restarting.add(e.worker);
        break;
      case 'stale':
        if (e.restarting) this.commands.restarting.add(e.worker);
        break;
      case 'worker-started':
      case 'spawn-failed':
      case 'exited':
      case 'backoff':
        this.commands.restarting.delete(e.worker);
        break;
      case 'task-tests':
        this.tests.set(e.worker, e);
        break;
      case 'config-check':
        this.configProblems = e.problems;
        this.configFile = basename(e.file);
        if (e.problems.length === 0) this.status.say('config valid again: the running set matches the file', 'ok');
        break;
      case 'loop':
        this.status.say(`${e.worker}: ${loopSentence(e, true)}`, 'error', 60_000);
        break;
      case 'warning':
        this.status.say(`${e.worker ? `${e.worker}: ` : ''}${e.message}`, 'warn', 8000);
        break;
      case 'port-taken':
        this.status.say(`${e.worker}: ${describePortTaken(e)[0] ?? `port ${e.port} is taken`}`, 'warn', 15000);
        break;
      case 'note':
        this.status.say(`${e.worker ? `${e.worker}: ` : ''}${e.message}`, 'info', 8000);
        break;
      default:
        break;
    }
    return true;
  }

  /** Marks the snapshot for re-reading; the clock tick uses it for ages and uptimes. */
  touch(): void {
    this.snapStale = true;
  }

  private get workers(): WorkerView[] {
    return this.snap.workers;
  }

  private selectedIndex(): number {
    const i = this.workers.findIndex((w) => w.name === this.selectedName);
    return i < 0 ? 0 : i;
  }

  private selected(): WorkerView | undefined {
    return this.workers[this.selectedIndex()];
  }

  /** Puts the current state into the boxes; the caller renders the screen. */
  fill(): void {
    if (this.snapStale) {
      this.snapStale = false;
      this.snap = this.api.snapshot();
      this.sampler.watch(this.workers.flatMap((w) => (w.pid === null ? [] : [w.pid])));
    }
    const { layout } = this;
    layout.place(this.workers.length, this.configProblems.length);
    if (this.configProblems.length > 0) {
      const bz = layout.bannerSize();
      const shown = this.configProblems.slice(0, bz.height);
      if (this.configProblems.length > bz.height && bz.height > 0) shown[bz.height - 1] = `and ${this.configProblems.length - bz.height + 1} more problems`;
      this.put(layout.banner, shown.map((p) => truncate(p, bz.width)).join('\n'));
      this.label(layout.banner, truncate(` ${this.configFile}: not applied, the running set differs from the file `, Math.max(0, bz.width - 2)));
    }
    const now = Date.now();
    const sel = this.selected();
    this.selectedName = sel?.name ?? null;

    const ls = layout.listSize();
    const rows = this.workers.map((view) => ({
      view,
      stats: this.sampler.get(view.pid),
      restarting: this.commands.restarting.has(view.name),
      tests: this.tests.get(view.name),
    }));
    const model = { rows, selected: this.selectedIndex(), focused: this.panel === 'list', now, statsSupported: procStatsSupported };
    this.put(layout.list, renderList(model, ls.width, ls.height).join('\n'));
    const held = this.snap.holds.length > 0 ? ` · restarts held by ${this.snap.holds.join(', ')}` : '';
    this.label(layout.list, truncate(` ${this.opts.title}${held} `, Math.max(0, ls.width - 2)));

    const lz = layout.logSize();
    if (sel) {
      const log = this.logs.get(sel.name);
      this.put(layout.log, renderLog(log, lz.width, lz.height, this.finder.active, this.wrap).join('\n'));
      this.label(layout.log, truncate(logLabel(sel.name, log, lz.height, this.finder.active, this.wrap), Math.max(0, lz.width - 2)));
    } else {
      this.put(layout.log, 'no workers');
      this.label(layout.log, ' log ');
    }
    this.put(layout.status, this.status.render(layout.status.width as number, this.panel, now));
  }

  /** setContent only on change: blessed re-parses a box's whole content on every set. */
  private put(box: Layout['list'], content: string): void {
    if (this.shown.get(box) === content) return;
    this.shown.set(box, content);
    box.setContent(forTerminal(content, this.opts.ascii));
  }

  private label(box: Layout['list'], text: string): void {
    if (this.labels.get(box) === text) return;
    this.labels.set(box, text);
    box.setLabel(forTerminal(text, this.opts.ascii));
  }

  // --- keys -------------------------------------------------------------------------------

  select(delta: number): void {
    const n = this.workers.length;
    if (n === 0) return;
    const i = Math.min(n - 1, Math.max(0, this.selectedIndex() + delta));
    this.selectedName = this.workers[i]!.name;
    // A match position belongs to the previous worker's log.
    this.finder.forgetPosition();
    this.opts.changed();
  }

  focus(panel: 'list' | 'log'): void {
    this.panel = panel;
    this.layout.focus(panel);
    this.opts.changed();
  }

  restart(): void {
    if (this.selectedName) this.commands.restart(this.selectedName);
    this.opts.changed();
  }

  restartAll(): void {
    this.commands.restartAll(this.workers);
    this.opts.changed();
  }

  toggleStop(): void {
    const w = this.selected();
    if (w) this.commands.toggleStop(w);
    this.opts.changed();
  }

  clearCaches(): void {
    if (this.selectedName) this.commands.clearCaches(this.selectedName);
    this.opts.changed();
  }

  scroll(how: 'up' | 'down' | 'wheelUp' | 'wheelDown' | 'pageUp' | 'pageDown' | 'top' | 'end'): void {
    const sel = this.selected();
    if (!sel) return;
    const log = this.logs.get(sel.name);
    const h = Math.max(1, this.layout.logSize().height);
    const page = Math.max(1, h - 1);
    if (how === 'up') log.scroll(-1, h);
    else if (how === 'down') log.scroll(1, h);
    else if (how === 'wheelUp') log.scroll(-WHEEL_LINES, h);
    else if (how === 'wheelDown') log.scroll(WHEEL_LINES, h);
    else if (how === 'pageUp') log.scroll(-page, h);
    else if (how === 'pageDown') log.scroll(page, h);
    else if (how === 'top') log.toStart();
    else log.toEnd();
    this.opts.changed();
  }

  prompt(text: string | null): void {
    this.status.prompt(text);
    this.opts.changed();
  }

  search(text: string): void {
    this.inSelectedLog((log, h) => this.finder.start(text, log, h));
  }

  searchNext(dir: 'older' | 'newer'): void {
    this.inSelectedLog((log, h) => this.finder.next(dir, log, h));
  }

  private inSelectedLog(run: (log: WorkerLog, height: number) => SearchNote | null): void {
    const sel = this.selected();
    if (!sel) return;
    const note = run(this.logs.get(sel.name), Math.max(1, this.layout.logSize().height));
    if (note) this.status.say(note.text, note.tone, 4000);
    this.opts.changed();
  }

  clearSearch(): void {
    this.finder.clear();
    this.opts.changed();
  }

  help(show: boolean): void {
    if (show) {
      this.layout.help.show();
      this.layout.help.setFront();
    } else this.layout.help.hide();
    this.opts.changed();
  }

  toggleWrap(): void {
    this.wrap = !this.wrap;
    this.status.say(this.wrap ? 'long lines wrap (w cuts them again)' : 'long lines are cut at the edge (w wraps them)');
    this.opts.changed();
  }

  toggleMouse(): void {
    this.mouseOn = !this.mouseOn;
    this.opts.mouse?.(this.mouseOn);
    // Said until taken back: with the mouse released the wheel no longer scrolls the log.
    if (this.mouseOn) this.status.say('mouse taken back: the wheel scrolls the log');
    else this.status.say('mouse released: select text to copy it (w wraps long lines); m takes it back', 'info', Infinity);
    this.opts.changed();
  }

  private forced = false;

  quit(): void {
    if (!this.quitting) {
      this.quitting = true;
      this.opts.quit();
      this.commands.quit(this.opts.force !== undefined);
    } else if (this.opts.force && !this.forced) {
      // Pressed again while the trees stop, as a second Ctrl-C outside the dashboard: kill them now.
      this.forced = true;
      this.commands.forcing();
      this.opts.force();
    }
    this.opts.changed();
  }
}
