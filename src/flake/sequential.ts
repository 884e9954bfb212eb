/**
 * The "is it fixed?" rule: a sequential probability ratio test (Wald) between the baseline rate p0
 * ("not fixed") and a lower rate p1 ("fixed"), with its boundaries set at 1/alpha and 1/beta.
 *
 * Why these boundaries and not Wald's (1 - beta)/alpha: the likelihood ratio of p1 against p0 is a
 * non-negative martingale with mean 1 when the true rate is p0 (and a supermartingale for any rate
 * above p0), so by Ville's inequality the chance that it EVER reaches 1/alpha is at most alpha. That
 * bound holds however often it is looked at, whatever the cap, and when the user stops early: the
 * usual objection to "run until it looks fixed" does not apply. The same argument with the inverse
 * ratio bounds the chance of calling a fix at rate p1 (or lower) "not fixed" by beta. Wald's
 * boundaries are only approximate once the test is cut off at a cap; these are exact bounds and cost
 * one or two extra runs.
 *
 * With p1 = 0 the rule is the classic one: fixed after ln(1/alpha)/ln(1/(1 - p0)) passes in a row
 * (59 at 5% and 95%), not fixed at the first failure. The default p1 = p0/10 lets a real fix fail
 * now and then without being condemned, for a few more runs (65 instead of 59).
 */

export type Verdict = 'fixed' | 'not-fixed';

export interface SequentialDesign {
  /** The failure rate before the fix; "fixed" means below it. */
  baseline: number;
  /** The rate that counts as fixed (the alternative hypothesis); 0 <= fixedRate < baseline. */
  fixedRate: number;
  /** E.g. 0.95: alpha = beta = 1 - confidence. */
  confidence: number;
  /** Log-likelihood-ratio step of one pass (fixed against baseline), > 0. */
  passStep: number;
  /** Log-likelihood-ratio step of one failure, < 0; -Infinity when fixedRate is 0. */
  failStep: number;
  /** Fixed once the log ratio reaches this: ln(1/alpha). */
  upper: number;
  /** Not fixed once the log ratio falls to this: -ln(1/beta). */
  lower: number;
}

export function sequentialDesign(baseline: number, fixedRate: number, confidence: number): SequentialDesign {
  if (!(baseline > 0 && baseline < 1)) throw new RangeError(`baseline must be between 0 and 1, got ${baseline}`);
  if (!(fixedRate >= 0 && fixedRate < baseline)) {
    throw new RangeError(`the fixed rate must be at least 0 and below the baseline ${baseline}, got ${fixedRate}`);
  }
  if (!(confidence > 0.5 && confidence < 1)) throw new RangeError(`confidence must be between 0.5 and 1, got ${confidence}`);
  const err = 1 - confidence;
  return {
    baseline,
    fixedRate,
    confidence,
    passStep: Math.log1p(-fixedRate) - Math.log1p(-baseline),
    failStep: fixedRate === 0 ? -Infinity : Math.log(fixedRate / baseline),
    upper: Math.log(1 / err),
    lower: -Math.log(1 / err),
  };
}

/** Float noise must not move a boundary by a run: a ratio within this of it counts as reaching it. */
const EPS = 1e-9;

/** The log likelihood ratio of "fixed" against "not fixed" after these counts. */
export function logRatio(d: SequentialDesign, runs: number, failed: number): number {
  if (failed === 0) return runs * d.passStep;
  return failed * d.failStep + (runs - failed) * d.passStep;
}

/** The verdict on these counts, or null while neither boundary is reached. */
export function verdictAt(d: SequentialDesign, runs: number, failed: number): Verdict | null {
  const llr = logRatio(d, runs, failed);
  if (llr >= d.upper - EPS) return 'fixed';
  if (llr <= d.lower + EPS) return 'not-fixed';
  return null;
}

/** Runs needed for "fixed" when `failed` of them fail (and the rule has not said "not fixed" first). */
export function runsToFixed(d: SequentialDesign, failed = 0): number {
  if (failed > 0 && d.failStep === -Infinity) return Infinity;
  const owed = failed === 0 ? 0 : failed * d.failStep;
  const passes = Math.max(0, Math.ceil((d.upper - owed) / d.passStep - EPS));
  return passes + failed;
}

/** Failures in a row that give "not fixed" at the soonest. */
export function failuresToNotFixed(d: SequentialDesign): number {
  if (d.failStep === -Infinity) return 1;
  return Math.max(1, Math.ceil(d.lower / d.failStep - EPS));
}

/**
 * How many passes between two failures still let each failure push toward "not fixed": a failure
 * is worth this many passes.
 */
export function passesPerFailure(d: SequentialDesign): number {
  return -d.failStep / d.passStep;
}

export interface SequentialTracker {
  /** Feed runs in run order; returns the verdict once one is reached (and keeps returning it). */
  add(failed: boolean): Verdict | null;
  readonly runs: number;
  readonly failed: number;
  readonly verdict: Verdict | null;
}

export function sequentialTracker(d: SequentialDesign): SequentialTracker {
  let runs = 0;
  let failed = 0;
  let verdict: Verdict | null = null;
  return {
    add(f) {
      if (verdict !== null) return verdict;
      runs++;
      if (f) failed++;
      verdict = verdictAt(d, runs, failed);
      return verdict;
    },
    get runs() {
      return runs;
    },
    get failed() {
      return failed;
    },
    get verdict() {
      return verdict;
    },
  };
}

export interface Operating {
  /** Probability of each ending within `cap` runs at the true rate. */
  fixed: number;
  notFixed: number;
  undecided: number;
  /** Expected number of runs, counting an undecided session as `cap`. */
  expectedRuns: number;
}

/**
 * The exact chances of each ending at a true failure rate, by following every path of failure
 * counts (dynamic programming over runs): what the error bounds above promise, computed rather
 * than trusted. O(cap * failures) with failures bounded by the "not fixed" boundary.
 */
export function operating(d: SequentialDesign, rate: number, cap: number): Operating {
  // alive[f] = probability of being undecided after n runs with f failures.
  let alive = new Map<number, number>([[0, 1]]);
  let fixed = 0;
  let notFixed = 0;
  let expectedRuns = 0;
  for (let n = 1; n <= cap && alive.size > 0; n++) {
    const next = new Map<number, number>();
    for (const [f, pr] of alive) {
      expectedRuns += pr;
      for (const [nf, q] of [
        [f, pr * (1 - rate)],
        [f + 1, pr * rate],
      ] as const) {
        if (q === 0) continue;
        const v = verdictAt(d, n, nf);
        if (v === 'fixed') fixed += q;
        else if (v === 'not-fixed') notFixed += q;
        else next.set(nf, (next.get(nf) ?? 0) + q);
      }
    }
    alive = next;
  }
  let undecided = 0;
  for (const pr of alive.values()) undecided += pr;
  return { fixed, notFixed, undecided, expectedRuns };
}

/**
 * A cap that leaves few sessions undecided even at the hardest rate (between the two hypotheses):
 * four times the runs "fixed" needs with no failure, which at 5% and 95% is 260 runs.
 */
export function defaultCap(d: SequentialDesign): number {
  return 4 * runsToFixed(d, 0);
}
