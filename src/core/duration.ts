const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * Every duration devsup shows a person, in one style: 850ms, 1.2s, 59.9s, 2m05s, 3h05m, 2d04h.
 * Rounding happens once, on the unit shown, so 999.6 ms is "1.0s" and 59.96 s is "1m00s", never
 * "1000ms" or "60.0s".
 */
export function formatDuration(ms: number): string {
  const t = Math.max(0, ms);
  if (t < 999.5) return `${Math.round(t)}ms`;
  if (t < 59_950) return `${(t / 1000).toFixed(1)}s`;
  const s = Math.round(t / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  const m = Math.round(s / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h${pad2(m % 60)}m`;
  const h = Math.round(m / 60);
  return `${Math.floor(h / 24)}d${pad2(h % 24)}h`;
}

/**
 * The one grammar for durations a user types, on the command line and in the config: a plain
 * number is milliseconds (`500`), or a number with a unit: `500ms`, `2s`, `1.5s`, `1m`, `1h`.
 * No spaces, no negative values, no other units: a typo is an error, never a surprise.
 */
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** The examples every error message shows. */
export const DURATION_EXAMPLES = '500, 500ms, 2s, 1m';

/** Milliseconds (rounded to whole ones), or undefined when the text is not a duration. */
export function parseDurationText(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!);
}

/** For JSON Schema: the strings parseDurationText takes. */
export const DURATION_PATTERN = DURATION.source;
