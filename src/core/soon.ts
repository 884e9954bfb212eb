/**
 * A timer that can be cancelled, in `ms` from now; at zero or less, right after the events the
 * event loop is delivering now: setTimeout's shortest delay is a whole millisecond, which a
 * window of zero (a settle window turned off) would otherwise add to every restart.
 */
export interface Soon {
  cancel(): void;
}

export function soon(fn: () => void, ms: number): Soon {
  if (ms <= 0) {
    const im = setImmediate(fn);
    return { cancel: () => clearImmediate(im) };
  }
  const t = setTimeout(fn, ms);
  return { cancel: () => clearTimeout(t) };
}
