/**
 * Runs at most `limit` of the given tasks at once. Directory reads hold a descriptor each;
 * unbounded fan-out over a large tree ends in EMFILE.
 */
export function gate(limit: number): <T>(fn: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (active >= limit) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await fn();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** Readdirs in flight at once: enough to hide disk latency, few enough to stay clear of EMFILE. */
export const dirGate = gate(32);
