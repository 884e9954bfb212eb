import type { Writable } from 'node:stream';

export interface Styler {
  dim(s: string): string;
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const codes = { dim: [2, 22], bold: [1, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;

/** Colour only for a terminal, and never when NO_COLOR is set (FORCE_COLOR wins over both). */
export function stylerFor(stream: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Styler {
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const on = force || (Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb');
  const wrap = (k: keyof typeof codes) => (s: string) => (on ? `\x1b[${codes[k][0]}m${s}\x1b[${codes[k][1]}m` : s);
  return { dim: wrap('dim'), bold: wrap('bold'), red: wrap('red'), green: wrap('green'), yellow: wrap('yellow'), cyan: wrap('cyan') };
}
