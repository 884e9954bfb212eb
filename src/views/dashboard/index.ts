import blessed from 'blessed';
import { errorMessage } from '../../core/errors.js';
import type { DevsupEvent } from '../../core/events.js';
import type { SupervisorApi } from '../../supervisor/api.js';
import { Controller } from './controller.js';
import { KeyHandler, type KeyInfo } from './keys.js';
import { createLayout } from './layout.js';
import { createProgram, restoreRaw } from './terminal.js';
import { utf8Locale } from '../glyphs.js';

export interface DashboardOptions {
  title?: string;
  /** Lines kept per worker (default 5000). */
  scrollback?: number;
  input?: NodeJS.ReadStream;
  output?: NodeJS.WriteStream;
  /** ASCII symbols instead of ✔ ✘ ↻ (default: when the locale is not UTF-8). */
  ascii?: boolean;
  /** A quit key pressed again while the trees stop: kill them now instead of waiting out the grace. */
  onForce?: () => void;
}

export interface RenderStats {
  renders: number;
  totalMs: number;
  maxMs: number;
}

export interface Dashboard {
  /** Resolves when the user asks to quit; the caller then shuts the supervisor down. */
  closed: Promise<'quit'>;
  /** Restores the terminal. Idempotent, and safe after errors. */
  destroy(): void;
  /** How long rendering has taken so far (for diagnostics and tests). */
  renderStats(): RenderStats;
}

/** At most one render per this many ms, however fast events arrive. */
const FRAME_MS = 50;
const TICK_MS = 1000;

export async function startDashboard(api: SupervisorApi, opts: DashboardOptions = {}): Promise<Dashboard> {
  const scrollback = opts.scrollback ?? 5000;
  // Checked before the terminal is touched, so a bad option never leaves it in the alternate screen.
  if (!Number.isInteger(scrollback) || scrollback < 1) throw new RangeError(`scrollback must be a positive integer, not ${scrollback}`);
  const ascii = opts.ascii ?? !utf8Locale();
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const program = createProgram(input, output);
  let screen: blessed.Widgets.Screen;
  try {
    screen = blessed.screen({ program, smartCSR: true, fullUnicode: true, autoPadding: true, warnings: false });
  } catch (err) {
    restoreRaw(input, output);
    throw err;
  }

  let destroyed = false;
  let frame: NodeJS.Timeout | undefined;
  let lastFrame = 0;
  const stats: RenderStats = { renders: 0, totalMs: 0, maxMs: 0 };
  let resolveClosed!: (v: 'quit') => void;
  const closed = new Promise<'quit'>((r) => (resolveClosed = r));

  const render = (): void => {
    frame = undefined;
    if (destroyed) return;
    const t0 = performance.now();
    lastFrame = Date.now();
    try {
      ctl.fill();
      screen.render();
    } catch (err) {
      // Said on the status line by the next render; not re-rendered now, so a broken render cannot loop.
      ctl.status.say(`dashboard error: ${errorMessage(err)}`, 'error', 15_000);
    }
    const ms = performance.now() - t0;
    stats.renders++;
    stats.totalMs += ms;
    stats.maxMs = Math.max(stats.maxMs, ms);
  };
  const changed = (): void => {
    if (destroyed || frame) return;
    frame = setTimeout(render, Math.max(0, FRAME_MS - (Date.now() - lastFrame)));
  };

  let ctl!: Controller;
  let unsubscribe: () => void = () => undefined;
  let tick: NodeJS.Timeout | undefined;
  const fault = (err: unknown): void => {
    ctl.status.say(`dashboard error: ${errorMessage(err)}`, 'error', 15_000);
    changed();
  };
  try {
    const layout = createLayout(screen, ascii);
    ctl = new Controller(api, layout, { title: opts.title ?? 'devsup', scrollback, changed, quit: () => resolveClosed('quit'), force: opts.onForce, ascii, mouse: (on) => (on ? screen.program.enableMouse() : screen.program.disableMouse()) });
    unsubscribe = api.subscribe((e: DevsupEvent) => {
      try {
        if (ctl.onEvent(e)) changed();
      } catch (err) {
        // A view bug must not break the supervisor's event bus.
        fault(err);
      }
    });
    const keys = new KeyHandler(ctl);
    screen.on('keypress', (ch: string | undefined, key: KeyInfo | undefined) => {
      try {
        keys.handle(ch, key ?? {});
      } catch (err) {
        fault(err);
      }
      // A key is answered in the next turn, not at the next frame: under a flood of output a frame
      // is always pending, and waiting for it added up to FRAME_MS to every key.
      if (frame && !destroyed) {
        clearTimeout(frame);
        frame = setTimeout(render, 0);
      }
    });
    layout.log.on('wheelup', () => ctl.scroll('wheelUp'));
    layout.log.on('wheeldown', () => ctl.scroll('wheelDown'));
    // blessed has already redrawn at the new size with the old geometry; replace that at once.
    screen.on('resize', () => {
      if (frame) clearTimeout(frame);
      render();
    });
    tick = setInterval(() => {
      ctl.touch();
      changed();
    }, TICK_MS);
    ctl.sampler.start();
    layout.focus('list');
  } catch (err) {
    destroyed = true;
    if (frame) clearTimeout(frame);
    unsubscribe();
    clearInterval(tick);
    ctl?.sampler.stop();
    try {
      screen.destroy();
    } catch {
      restoreRaw(input, output);
    }
    throw err;
  }
  const destroy = (): void => {
    if (destroyed) return;
    destroyed = true;
    process.off('uncaughtExceptionMonitor', onCrash);
    process.off('exit', onExit);
    if (frame) clearTimeout(frame);
    clearInterval(tick);
    for (const step of [() => ctl.sampler.stop(), unsubscribe]) {
      try {
        step();
      } catch {
        // Teardown goes on: the terminal matters more than a failed unsubscribe.
      }
    }
    try {
      screen.destroy();
    } catch {
      restoreRaw(input, output);
    }
  };
  // Runs before any handler prints the error, so the trace lands on the normal screen.
  const onCrash = (): void => destroy();
  const onExit = (): void => destroy();
  process.on('uncaughtExceptionMonitor', onCrash);
  process.on('exit', onExit);

  render();
  return { closed, destroy, renderStats: () => ({ ...stats }) };
}
