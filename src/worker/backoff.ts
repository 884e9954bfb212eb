/**
 * Exponential restart delays for crash loops, reset once a child has stayed up long enough.
 * `crashes` is how many restarts in a row came before; returns the attempt number and its delay.
 */
export function backoffDelay(crashes: number, ranMs: number, baseMs = 500, capMs = 30_000, healthyMs = 60_000): { attempt: number; delayMs: number } {
  const n = ranMs >= healthyMs ? 0 : crashes;
  return { attempt: n + 1, delayMs: Math.min(capMs, baseMs * 2 ** n) };
}

/** The same delays, counted by the object itself. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 500,
    private readonly capMs = 30_000,
    private readonly healthyMs = 60_000,
  ) {}

  /** Call when a child exits; `ranMs` is how long it lived. Returns the delay before the next start. */
  next(ranMs: number): { attempt: number; delayMs: number } {
    const r = backoffDelay(this.attempt, ranMs, this.baseMs, this.capMs, this.healthyMs);
    this.attempt = r.attempt;
    return r;
  }

  reset(): void {
    this.attempt = 0;
  }
}
