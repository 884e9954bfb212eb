/**
 * Without a UTF-8 locale a terminal shows `?` (or garbage) for ✔ and ✘, and pass and fail look the
 * same without colour. Every view writes through `forTerminal`, which swaps devsup's own symbols
 * for ASCII ones there, of the same width wherever a column depends on it.
 */
const ASCII: Record<string, string> = {
  '✔': '+',
  '✘': 'x',
  '⊘': '-',
  '↻': '*',
  // Only in the key help, the last thing on the status line: there a longer word costs nothing.
  '⏎': 'Enter',
  '↑': '^',
  '↓': 'v',
  // Only in plain lines, which have no columns.
  '→': '->',
  '›': '>',
  '·': '-',
  '…': '.',
  '─': '-',
  '–': '-',
  '█': '#',
  '▇': '#',
  '▆': '=',
  '▅': '=',
  '▄': '-',
  '▃': '-',
  '▂': '_',
  '▁': '_',
};
const SYMBOLS = new RegExp(`[${Object.keys(ASCII).join('')}]`, 'g');

/**
 * Whether the locale says the terminal takes UTF-8: the first of LC_ALL, LC_CTYPE and LANG that is
 * set decides, as for every C program; none set, `C` and `POSIX` mean ASCII.
 */
export function utf8Locale(env: NodeJS.ProcessEnv = process.env): boolean {
  const locale = [env.LC_ALL, env.LC_CTYPE, env.LANG].find((v) => v !== undefined && v !== '');
  return locale !== undefined && /utf-?8/i.test(locale);
}

export function toAscii(text: string): string {
  return text.replace(SYMBOLS, (c) => ASCII[c] ?? c);
}

/** The text as this terminal can show it. */
export function forTerminal(text: string, ascii = !utf8Locale()): string {
  return ascii ? toAscii(text) : text;
}
