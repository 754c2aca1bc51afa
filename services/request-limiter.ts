/**
 * Per-key request limiter for the propose endpoints (fixed one-minute windows,
 * per process). It protects the server, not a policy: policy rate limits are
 * exact across processes and live in the agent-policy layer.
 */
export class RequestLimiter {
  private window = 0;
  private readonly counts = new Map<string, number>();

  constructor(private readonly perMinute: number) {}

  /** True when the key may make one more request now. */
  take(key: string, now = Date.now()): boolean {
    if (this.perMinute <= 0) return true;
    const w = Math.floor(now / 60_000);
    if (w !== this.window) {
      this.window = w;
      this.counts.clear();
    }
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return n <= this.perMinute;
  }

  retryAfterSeconds(now = Date.now()): number {
    return 60 - Math.floor((now % 60_000) / 1000);
  }
}
