/**
 * Which new traces are recorded: at most `perSecond` a second (a token bucket holding one
 * second's worth), the way AWS X-Ray's reservoir and Jaeger's rate limiter bound tracing. At an
 * operator's pace every call is traced; under a burst of thousands of calls a second the cost
 * stays that of `perSecond` traces, which keeps tracing within its overhead budget (bench q).
 * Deciding before a span exists also spares its attributes for the traces left out.
 */
export class TraceBudget {
  private tokens: number;
  private lastMs: number;

  /** `perSecond`: Infinity records every trace; 0 none. `now`: a monotonic clock in ms. */
  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = perSecond;
    this.lastMs = now();
  }

  /** Whether a new trace may be recorded now (and then counts it). */
  take(): boolean {
    if (this.perSecond === Number.POSITIVE_INFINITY) return true;
    const now = this.now();
    this.tokens = Math.min(this.perSecond, this.tokens + ((now - this.lastMs) / 1000) * this.perSecond);
    this.lastMs = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
