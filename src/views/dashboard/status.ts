import { fit, visibleWidth } from './ansi.js';

export type StatusTone = 'info' | 'ok' | 'warn' | 'error';

const TONE: Record<StatusTone, string> = { info: '\x1b[36m', ok: '\x1b[32m', warn: '\x1b[33m', error: '\x1b[1;31m' };
const HELP = {
  list: ['↑↓ select', '⏎ log', 'r restart', 'a all', 's stop/start', 'c caches', '/ search'],
  log: ['↑↓ PgUp PgDn scroll', 'G follow', '/ search', 'n N next', 'w wrap', 'm mouse', 'Tab back', 'r restart'],
} as const;
/** Always shown, last: how to learn the other keys, and how to get out. */
const ALWAYS = ['? help', 'q quit'];
const GAP = '  ';

/** As many keys as fit in `width`, in order, and always the ones of ALWAYS. */
function keyHelp(panel: 'list' | 'log', width: number): string {
  const tail = ALWAYS.join(GAP);
  const shown: string[] = [];
  let used = visibleWidth(tail);
  for (const item of HELP[panel]) {
    const w = visibleWidth(item) + GAP.length;
    if (used + w > width) break;
    shown.push(item);
    used += w;
  }
  return `\x1b[90m${[...shown, tail].join(GAP)}\x1b[0m`;
}

/** The bottom line: a transient message (or the search prompt) followed by key help. */
export class StatusLine {
  private message: { text: string; tone: StatusTone; until: number } | null = null;
  private promptText: string | null = null;

  /** Shows a message for `ttlMs` (Infinity keeps it until replaced). */
  say(text: string, tone: StatusTone = 'info', ttlMs = 5000): void {
    this.message = { text, tone, until: Date.now() + ttlMs };
  }

  prompt(text: string | null): void {
    this.promptText = text;
  }

  /** When the current message runs out, so a render can be scheduled for it. */
  expiresAt(): number | null {
    return this.message && Number.isFinite(this.message.until) ? this.message.until : null;
  }

  render(width: number, panel: 'list' | 'log', now = Date.now()): string {
    if (this.promptText !== null) return fit(`/${this.promptText}\x1b[7m \x1b[0m  \x1b[90mEnter search · Esc cancel\x1b[0m`, width);
    if (this.message && this.message.until <= now) this.message = null;
    if (!this.message) return fit(keyHelp(panel, width), width);
    const msg = `${TONE[this.message.tone]}${this.message.text}\x1b[0m`;
    // The message wins: help is cut, never the message.
    const rest = width - visibleWidth(this.message.text) - 3;
    return rest <= 0 ? fit(msg, width) : fit(`${msg}   ${keyHelp(panel, rest)}`, width);
  }
}
