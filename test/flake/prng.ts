/**
 * The test's own copy of the PRNG in test/fixtures/flaky.mjs, so which runs fail is known before
 * anything is spawned. If the two drift apart the exact-count assertions fail.
 */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function expectedFailures(p: number, seed: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (mulberry32((seed ^ Math.imul(i, 0x9e3779b9)) >>> 0)() < p) out.push(i);
  }
  return out;
}
