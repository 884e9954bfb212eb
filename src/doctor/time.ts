const NS_PER_MS = 1_000_000n;

/** A duration for humans; the sign is dropped because callers say "before" or "after" themselves. */
export function formatDuration(ns: bigint): string {
  const abs = Number(ns < 0n ? -ns : ns);
  if (abs < 1e6) return `${(abs / 1e3).toFixed(1)} µs`;
  if (abs < 1e9) return `${(abs / 1e6).toFixed(3)} ms`;
  if (abs < 120e9) return `${(abs / 1e9).toFixed(2)} s`;
  if (abs < 7200e9) return `${(abs / 60e9).toFixed(1)} min`;
  if (abs < 172_800e9) return `${(abs / 3600e9).toFixed(1)} h`;
  return `${(abs / 86_400e9).toFixed(1)} days`;
}

export function isoFromNs(ns: bigint): string {
  return new Date(Number(ns / NS_PER_MS)).toISOString();
}

export function nsFromMs(ms: number): bigint {
  return BigInt(Math.round(ms * 1e6));
}
