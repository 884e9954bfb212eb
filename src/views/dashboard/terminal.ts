import blessed from 'blessed';

/**
 * blessed cannot parse the terminfo entries of tmux and screen on current ncurses and falls back
 * to 8-colour xterm (printing garbage for screen-256color); xterm-256color is what they emulate.
 */
export function pickTerminal(term: string | undefined): string | undefined {
  if (!term) return 'xterm';
  return /^(screen|tmux)/.test(term) ? 'xterm-256color' : undefined;
}

/**
 * A blessed Program that prints nothing of its own. `extended: false` keeps blessed away from
 * extended capabilities it cannot compile. Some standard entries still fail (Debian's legacy-format
 * xterm-256color trips on one string); blessed then falls back to its bundled copy, which is fine,
 * but first dumps the failing code to stderr, on top of the dashboard: that dump is swallowed.
 */
export function createProgram(input: NodeJS.ReadStream, output: NodeJS.WriteStream): blessed.BlessedProgram {
  const terminal = pickTerminal(process.env.TERM);
  const options = { input, output, extended: false, tput: true, buffer: true, zero: true, ...(terminal ? { terminal } : {}) };
  const consoleError = console.error;
  console.error = () => undefined;
  try {
    return blessed.program(options as unknown as Parameters<typeof blessed.program>[0]);
  } finally {
    console.error = consoleError;
  }
}

const RESTORE = '\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[0m\x1b[?25h\x1b[?1049l';

/** The terminal restored by hand, for when blessed itself failed. */
export function restoreRaw(input: NodeJS.ReadStream, output: NodeJS.WriteStream): void {
  try {
    output.write(RESTORE);
  } catch {
    // Nothing left to try.
  }
  try {
    if (input.isTTY && input.isRaw) input.setRawMode(false);
    input.pause();
  } catch {
    // As above.
  }
}
