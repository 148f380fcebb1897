/**
 * Token bucket for revives, so a burst of new work cannot flood the master (reference:
 * capacity 256, starts full). We refill faster than the reference's 1 per 256 s because a
 * multi-service scheduler gets new work whenever any service moves a step.
 */
export interface ReviveLimiterOptions {
  /** @default 256 */
  readonly capacity?: number;
  /** @default 5000 */
  readonly refillEveryMs?: number;
}

export class ReviveLimiter {
  private tokens: number;
  private lastRefillMs: number;
  private readonly capacity: number;
  private readonly refillEveryMs: number;

  constructor(nowMs: number, options: ReviveLimiterOptions = {}) {
    this.capacity = options.capacity ?? 256;
    this.refillEveryMs = options.refillEveryMs ?? 5000;
    this.tokens = this.capacity;
    this.lastRefillMs = nowMs;
  }

  tryTake(nowMs: number): boolean {
    const earned = Math.floor((nowMs - this.lastRefillMs) / this.refillEveryMs);
    if (earned > 0) {
      this.tokens = Math.min(this.capacity, this.tokens + earned);
      this.lastRefillMs += earned * this.refillEveryMs;
    }
    if (this.tokens <= 0) return false;
    this.tokens--;
    return true;
  }
}
