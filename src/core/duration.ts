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
