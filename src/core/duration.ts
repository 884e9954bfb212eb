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
