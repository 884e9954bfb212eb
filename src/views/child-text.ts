/**
 * Child output arrives as raw terminal bytes. Written on as they are, a child's screen clears,
 * cursor moves and window titles act on the reader's terminal: a test run that clears its screen
 * wipes the dashboard, the interleaved lines of `devsup up`, or the screen `devsup logs -f` runs in.
 * Every view that shows child output passes it through `safeChildText`, so they all keep the same:
 * SGR (colour) sequences where colour is wanted, and none of the rest.
 */

const SGR = /\x1b\[[\d;]*m/g;
const ONE_SGR = /^\x1b\[[\d;]*m$/;
// CSI (other than plain SGR), OSC (ended by BEL or ST), and two-byte escapes such as ESC c (reset).
const OTHER_ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[P^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]?/g;
// C1 controls too: a UTF-8 terminal takes U+009B as CSI and U+0090/U+009D/U+009E/U+009F as the
// start of a string that swallows what follows, and random bytes decode to them often enough.
const CONTROL = /[\x00-\x08\x0b-\x1a\x1c-\x1f\x7f-\x9f]/g;
// Any control character, or an escape that does not start an SGR: lines with only colours pass as they are.
const NEEDS_WORK = /[\x00-\x1a\x1c-\x1f\x7f-\x9f]|\x1b(?!\[[\d;]*m)/;

export interface ChildTextOptions {
  /** Keep the child's SGR colour sequences (for a terminal that shows colour); otherwise drop them too. */
  colour: boolean;
  /** Turn tabs into spaces to eight-column stops (a pane draws no tabs); otherwise keep them. */
  expandTabs?: boolean;
}

/** One line of child output made safe to write to a terminal or a box. */
export function safeChildText(line: string, opts: ChildTextOptions): string {
  const s = NEEDS_WORK.test(line) ? clean(line, opts.expandTabs === true) : line;
  return opts.colour ? s : stripSgr(s);
}

export function stripSgr(s: string): string {
  return s.includes('\x1b') ? s.replace(SGR, '') : s;
}

function clean(line: string, tabs: boolean): string {
  let s = line;
  if (s.endsWith('\n')) s = s.slice(0, -1);
  if (s.endsWith('\r')) s = s.slice(0, -1);
  // A carriage return redraws the line (progress bars): a terminal would show what came last.
  const cr = s.lastIndexOf('\r');
  if (cr >= 0) s = s.slice(cr + 1);
  s = s.replace(OTHER_ESCAPES, (m) => (ONE_SGR.test(m) ? m : ''));
  if (tabs && s.includes('\t')) s = expandTabs(s);
  return s.replace(CONTROL, '');
}

function expandTabs(s: string): string {
  let out = '';
  let col = 0;
  for (const part of s.split(/(\x1b\[[\d;]*m)/)) {
    if (part.startsWith('\x1b')) {
      out += part;
      continue;
    }
    for (const ch of part) {
      if (ch === '\t') {
        const n = 8 - (col % 8);
        out += ' '.repeat(n);
        col += n;
      } else {
        out += ch;
        col++;
      }
    }
  }
  return out;
}
