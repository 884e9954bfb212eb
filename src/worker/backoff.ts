/** Exponential restart delays for crash loops, reset once a child has stayed up long enough. */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly baseMs = 500,
    private readonly capMs = 30_000,
    private readonly healthyMs = 60_000,
  ) {}

  /** Call when a child exits; `ranMs` is how long it lived. Returns the delay before the next start. */
  next(ranMs: number): { attempt: number; delayMs: number } {
    if (ranMs >= this.healthyMs) this.attempt = 0;
    const delayMs = Math.min(this.capMs, this.baseMs * 2 ** this.attempt);
    this.attempt++;
    return { attempt: this.attempt, delayMs };
  }

  reset(): void {
    this.attempt = 0;
  }
}
