import type { Writable } from 'node:stream';

export interface Styler {
  /** A colour of its own for each name, so interleaved workers are told apart at a glance. */
  tag(name: string, s: string): string;
  dim(s: string): string;
  bold(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const TAG_COLOURS = [36, 35, 34, 32, 33, 96, 95, 94, 92, 93];

const codes = { dim: [2, 22], bold: [1, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;

/** Colour only for a terminal, and never when NO_COLOR is set (FORCE_COLOR wins over both). */
export function colourWanted(stream: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  return force || (Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb');
}

/** devsup's own colours, on where `colourWanted` says so. */
export function stylerFor(stream: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): Styler {
  const on = colourWanted(stream, env);
  const wrap = (k: keyof typeof codes) => (s: string) => (on ? `\x1b[${codes[k][0]}m${s}\x1b[${codes[k][1]}m` : s);
  const tag = (name: string, s: string): string => {
    if (!on) return s;
    let h = 0;
    for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
    const colour = TAG_COLOURS[h % TAG_COLOURS.length]!;
    return `\x1b[${colour}m${s}\x1b[39m`;
  };
  return { tag, dim: wrap('dim'), bold: wrap('bold'), red: wrap('red'), green: wrap('green'), yellow: wrap('yellow'), cyan: wrap('cyan') };
}
