import type { DevsupEvent } from '../../core/events.js';
import type { LogLine } from '../../supervisor/api.js';
import { sanitizeLine, truncate, wrapLine } from './ansi.js';
import { describePortTaken, loopSentence, plural } from '../format.js';
import { exitText, formatDuration, generationBanner, restartBanner } from './format.js';
import { Ring } from '../../core/ring.js';
import { SCROLLBACK_CHARS } from '../../process/lines.js';
import { highlightLine, lineMatches, type PaneSearch } from './search.js';

const GREY = '\x1b[90m';
const RESET = '\x1b[0m';

/** One worker's scrollback and where its pane is looking. */
export class WorkerLog {
  readonly ring: Ring<string>;
  /** Sticks to the newest line; cleared when the user scrolls up. */
  follow = true;
  /** Absolute position of the first visible line while not following. */
  top = 0;
  /** The generation of the newest line, to put a banner between generations. */
  generation = 0;

  constructor(capacity: number) {
    this.ring = new Ring<string>(capacity, SCROLLBACK_CHARS);
  }

  /** Weighed by the line as it came: a line cut for the pane may still hold on to all of it. */
  push(text: string): void {
    this.ring.push(sanitizeLine(text), text.length);
  }

  note(text: string): void {
    this.ring.push(`${GREY}${text}${RESET}`, text.length);
  }

  /** Lines of a backlog; the store keeps no restart reasons, so its banners say less. */
  fill(lines: LogLine[]): void {
    for (const l of lines) {
      if (l.generation !== this.generation && this.ring.length > 0) this.note(generationBanner(l.generation));
      this.generation = Math.max(this.generation, l.generation);
      if (l.stream === 'devsup') this.note(sanitizeLine(l.text));
      else this.push(l.text);
    }
  }

  /** First visible position for a pane `height` lines tall. */
  firstVisible(height: number): number {
    const r = this.ring;
    const bottom = Math.max(r.start, r.end - height);
    if (this.follow) return bottom;
    return Math.min(Math.max(this.top, r.start), bottom);
  }

  scroll(delta: number, height: number): void {
    const from = this.firstVisible(height);
    const bottom = Math.max(this.ring.start, this.ring.end - height);
    const to = Math.min(Math.max(from + delta, this.ring.start), bottom);
    this.top = to;
    // Scrolling back down to the end resumes following, as `less +F` users expect.
    if (to < bottom) this.follow = false;
    else if (delta > 0) this.follow = true;
  }

  toEnd(): void {
    this.follow = true;
  }

  toStart(): void {
    this.follow = false;
    this.top = this.ring.start;
  }

  /** Puts `pos` a third of the way down the pane and stops following there. */
  reveal(pos: number, height: number): void {
    this.follow = false;
    this.top = Math.max(this.ring.start, pos - Math.floor(height / 3));
  }

  /** Lines below the pane's bottom edge. */
  newerThanView(height: number): number {
    return Math.max(0, this.ring.end - (this.firstVisible(height) + height));
  }
}

/** Per-worker logs, fed from the event stream. */
export class LogStore {
  private readonly logs = new Map<string, WorkerLog>();

  constructor(private readonly capacity: number) {}

  get(name: string): WorkerLog {
    let log = this.logs.get(name);
    if (!log) {
      log = new WorkerLog(this.capacity);
      this.logs.set(name, log);
    }
    return log;
  }

  has(name: string): boolean {
    return this.logs.has(name);
  }

  /** Returns the worker whose log changed, if any. */
  ingest(e: DevsupEvent): string | null {
    if (e.type === 'output') {
      const log = this.get(e.worker);
      log.generation = Math.max(log.generation, e.generation);
      log.push(e.line);
      return e.worker;
    }
    if (e.type === 'worker-started') {
      const log = this.get(e.worker);
      const first = log.ring.length === 0 && (!e.restart || e.restart.reason === 'initial');
      if (!first) log.note(restartBanner(e));
      log.generation = Math.max(log.generation, e.generation);
      return e.worker;
    }
    // Why output stopped belongs in the log too, between the last line and the next banner.
    if (e.type === 'exited') {
      this.get(e.worker).note(`── exited (${exitText({ code: e.code, signal: e.signal })}) after ${formatDuration(e.durationMs)} ──`);
      return e.worker;
    }
    if (e.type === 'loop') {
      this.get(e.worker).note(`── ${loopSentence(e)} ──`);
      return e.worker;
    }
    if (e.type === 'port-taken') {
      const log = this.get(e.worker);
      for (const line of describePortTaken(e)) log.note(`── ${line} ──`);
      return e.worker;
    }
    if (e.type === 'spawn-failed') {
      this.get(e.worker).note(`── could not start: ${e.message} ──`);
      return e.worker;
    }
    return null;
  }
}

/** The visible window of a log as lines cut to `width`, with search matches marked. */
export function renderLog(log: WorkerLog, width: number, height: number, search: PaneSearch | null, wrap = false): string[] {
  if (width <= 0 || height <= 0) return [];
  const from = log.firstVisible(height);
  const lines = log.ring.slice(from, from + height);
  const cut = lines.map((line, i) => {
    if (search && (from + i === search.current || lineMatches(line, search.query))) return highlightLine(line, search.query, width);
    return truncate(line, width);
  });
  if (!wrap) return cut;
  // Wrapped, the same lines take more rows: following, the newest rows show; scrolled, the first line stays on top.
  const rows = lines.flatMap((line, i) => (search && cut[i] !== truncate(line, width) ? [cut[i]!] : wrapLine(line, width)));
  return log.follow ? rows.slice(-height) : rows.slice(0, height);
}

export function logLabel(name: string, log: WorkerLog, height: number, search: PaneSearch | null, wrap = false): string {
  const parts = [name];
  if (wrap) parts.push('wrap (w cuts)');
  if (!log.follow) {
    const newer = log.newerThanView(height);
    parts.push(newer > 0 ? `scrolled, ${plural(newer, 'newer line')} (G follows)` : 'scrolled (G follows)');
  }
  if (search) parts.push(`/${search.query.text}`);
  return ` ${parts.join(' · ')} `;
}
