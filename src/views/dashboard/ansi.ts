import blessed from 'blessed';
import { safeChildText, stripSgr } from '../child-text.js';

/**
 * Text for the boxes of the dashboard. Child output is made safe by `safeChildText` (what survives
 * into a pane: SGR colours only); blessed itself would only strip the ESC byte of the rest, leaving
 * `[2K` behind as text.
 */

interface UnicodeWidth {
  charWidth(str: string, i: number): number;
}
const unicode = (blessed as unknown as { unicode: UnicodeWidth }).unicode;

const SGR_HERE = /\x1b\[[\d;]*m/y;
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** Longest stored line: a pane never shows more, and one huge line must not pin megabytes. */
export const MAX_LINE = 4096;
/** Ends a line cut at MAX_LINE, so wrapping it does not pass its head off as all of it. */
export const PANE_CUT_MARK = ` [devsup: cut at ${MAX_LINE} characters]`;

/** Makes one line of child output safe to put in a box, keeping its colours. */
export function sanitizeLine(line: string): string {
  const head = line.length <= MAX_LINE ? line : line.slice(0, MAX_LINE);
  const safe = safeChildText(head, { colour: true, expandTabs: true });
  return head === line ? safe : `${safe}${PANE_CUT_MARK}`;
}

export { stripSgr };

export function visibleWidth(s: string): number {
  const plain = stripSgr(s);
  if (PLAIN_ASCII.test(plain)) return plain.length;
  let w = 0;
  for (let i = 0; i < plain.length; i++) {
    w += unicode.charWidth(plain, i);
    if (isHighSurrogate(plain.charCodeAt(i))) i++;
  }
  return w;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/**
 * Walks a line in the pieces a terminal draws: each SGR sequence (`onSgr`), and each character with
 * the columns it takes (`onChar`, which returns false to stop). A lone ESC that starts no SGR
 * sequence is dropped.
 */
function eachPiece(s: string, onSgr: (sgr: string) => void, onChar: (ch: string, columns: number) => boolean): void {
  let i = 0;
  while (i < s.length) {
    if (s.charCodeAt(i) === 0x1b) {
      SGR_HERE.lastIndex = i;
      const m = SGR_HERE.exec(s);
      if (m) {
        onSgr(m[0]);
        i += m[0].length;
      } else i++;
      continue;
    }
    const len = isHighSurrogate(s.charCodeAt(i)) ? 2 : 1;
    if (!onChar(s.slice(i, i + len), unicode.charWidth(s, i))) return;
    i += len;
  }
}

/**
 * Cuts a line to `width` columns, keeping its SGR sequences intact, and closes any colour it
 * opened so it cannot bleed into the next line (blessed carries attributes across lines).
 */
export function truncate(s: string, width: number): string {
  const hasSgr = s.includes('\x1b');
  if (!hasSgr && s.length <= width && PLAIN_ASCII.test(s)) return s;
  if (!hasSgr && PLAIN_ASCII.test(s)) return s.slice(0, Math.max(0, width));
  let out = '';
  let w = 0;
  eachPiece(
    s,
    (sgr) => void (out += sgr),
    (ch, cw) => {
      if (w + cw > width) return false;
      out += ch;
      w += cw;
      return true;
    },
  );
  return hasSgr ? `${out}\x1b[0m` : out;
}

/** Pads with spaces to exactly `width` columns (cutting when longer). */
export function fit(s: string, width: number, align: 'left' | 'right' = 'left'): string {
  const cut = truncate(s, width);
  const pad = ' '.repeat(Math.max(0, width - visibleWidth(cut)));
  return align === 'left' ? cut + pad : pad + cut;
}

/**
 * Splits a line into rows of at most `width` columns. The colours open at a split are closed at the
 * end of the row and opened again at the start of the next, so every row stands alone.
 */
export function wrapLine(s: string, width: number): string[] {
  if (width <= 0) return [''];
  if (!s.includes('\x1b') && PLAIN_ASCII.test(s)) {
    const rows: string[] = [];
    for (let i = 0; i < s.length; i += width) rows.push(s.slice(i, i + width));
    return rows.length > 0 ? rows : [''];
  }
  const rows: string[] = [];
  let row = '';
  let w = 0;
  let open = '';
  eachPiece(
    s,
    (sgr) => {
      row += sgr;
      // A reset ends every colour opened before it.
      open = /^\x1b\[0?m$/.test(sgr) ? '' : open + sgr;
    },
    (ch, cw) => {
      if (w + cw > width && w > 0) {
        rows.push(open ? `${row}\x1b[0m` : row);
        row = open;
        w = 0;
      }
      row += ch;
      w += cw;
      return true;
    },
  );
  rows.push(open ? `${row}\x1b[0m` : row);
  return rows;
}