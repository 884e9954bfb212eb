/** Two-sided 95%: the 0.975 quantile of the standard normal distribution. */
export const Z95 = 1.959964;

export interface RateInterval {
  /** Observed proportion, failures / n. */
  rate: number;
  low: number;
  high: number;
}

function checkCount(failures: number, n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a positive integer, got ${n}`);
  if (!Number.isInteger(failures) || failures < 0 || failures > n) {
    throw new RangeError(`failures must be an integer in 0..${n}, got ${failures}`);
  }
}

/**
 * Wilson score interval at 95% (two-sided). Chosen over the normal approximation because it
 * stays inside [0, 1] and behaves at 0 or n failures, which is the common case for flake runs.
 */
export function wilson(failures: number, n: number): RateInterval {
  checkCount(failures, n);
  const p = failures / n;
  const z2 = Z95 * Z95;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // Clamp the float noise at the ends so 0 failures reports exactly 0, n failures exactly 1.
  const low = failures === 0 ? 0 : Math.max(0, centre - half);
  const high = failures === n ? 1 : Math.min(1, centre + half);
  return { rate: p, low, high };
}

/**
 * Exact one-sided 95% upper bound on the failure rate when 0 of n runs failed: the rate p at
 * which seeing no failure in n runs has probability 5%, (1 - p)^n = 0.05. This is what the
 * product sentence reports ("0 of 50 failed: failure rate below 5.8%"); the Wilson upper bound
 * (7.1% for 50) is two-sided and so answers a different, more conservative question. For large n
 * it approaches the "rule of three", 3/n, from below.
 */
export function zeroFailureUpperBound(n: number): number {
  checkCount(0, n);
  return 1 - Math.pow(0.05, 1 / n);
}

function sortedCopy(values: readonly number[], what: string): number[] {
  if (values.length === 0) throw new RangeError(`${what} of an empty list`);
  return [...values].sort((a, b) => a - b);
}

/** Middle value; the mean of the two middle values for an even count. */
export function median(values: readonly number[]): number {
  const s = sortedCopy(values, 'median');
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Nearest-rank percentile, p in [0, 100]: the smallest value with at least p% of the values at
 * or below it. Always returns one of the inputs (a duration that really happened), never an
 * interpolated one. p = 0 gives the minimum.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in 0..100, got ${p}`);
  const s = sortedCopy(values, 'percentile');
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

/**
 * A proportion as a percentage with one decimal ("5.8%"). Rates below 0.1% but above zero get
 * two significant digits instead, so a bound from thousands of runs does not print as "0.0%".
 */
export function formatRate(rate: number): string {
  const pct = rate * 100;
  if (pct > 0 && pct < 0.1) return `${pct.toPrecision(2)}%`;
  return `${pct.toFixed(1)}%`;
}

/** ln(k!) for k = 0..n, by running sums: exact enough for counts of runs, and no gamma function needed. */
function logFactorials(n: number): Float64Array {
  const t = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) t[k] = t[k - 1]! + Math.log(k);
  return t;
}

/**
 * Fisher's exact test, two-sided, on two sessions' counts: `failedA` of `runsA` against `failedB`
 * of `runsB`. The p-value is the total probability, with all margins fixed (hypergeometric), of
 * every table at most as likely as the one seen. Probabilities are computed in log space: the
 * factorials of a few thousand runs overflow a double long before the ratio does.
 */
export function fisherExact(failedA: number, runsA: number, failedB: number, runsB: number): number {
  for (const [f, n] of [
    [failedA, runsA],
    [failedB, runsB],
  ] as const) {
    if (!Number.isInteger(n) || n < 0 || !Number.isInteger(f) || f < 0 || f > n) {
      throw new RangeError(`expected 0 <= failed <= runs, got ${f} of ${n}`);
    }
  }
  const total = runsA + runsB;
  const failures = failedA + failedB;
  if (runsA === 0 || runsB === 0 || failures === 0 || failures === total) return 1;
  const lf = logFactorials(total);
  // ln P(a failures in A) with margins fixed.
  const logP = (a: number): number =>
    lf[runsA]! + lf[runsB]! + lf[failures]! + lf[total - failures]! -
    (lf[total]! + lf[a]! + lf[runsA - a]! + lf[failures - a]! + lf[runsB - failures + a]!);
  const lo = Math.max(0, failures - runsB);
  const hi = Math.min(failures, runsA);
  const seen = logP(failedA);
  // Tables equally likely up to rounding count as "at most as likely" (R and SciPy do the same).
  const cut = seen + 1e-7;
  let p = 0;
  for (let a = lo; a <= hi; a++) {
    const l = logP(a);
    if (l <= cut) p += Math.exp(l);
  }
  return Math.min(1, p);
}
