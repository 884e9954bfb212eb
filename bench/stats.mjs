export function median(xs) {
  return percentile(xs, 50);
}

/** Nearest-rank percentile: always a value that was actually measured. */
export function percentile(xs, p) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * v.length));
  return v[Math.min(rank, v.length) - 1];
}

export function sum(xs) {
  return xs.reduce((a, b) => a + b, 0);
}
