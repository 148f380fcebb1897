/**
 * Real time and real randomness for production and benchmarks. Tests use `FakeClock` and
 * `SeededRandom` from `fake-clock.ts` instead.
 */
import { randomUUID } from "node:crypto";
import type { Cancel, Clock, Random } from "../engine/ports.js";

/** setTimeout's delay is a signed 32-bit integer; longer delays fire after 1 ms (Node warns). */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

export interface SystemClockOptions {
  /**
   * Unref timers so a pending timer never keeps the process alive. Turn off when nothing else
   * (a server socket) holds the event loop open, e.g. a benchmark driving a SimulatedCluster.
   * @default true
   */
  readonly unref?: boolean;
}

/**
 * `Date.now()` and `setTimeout`. Delays beyond ~24.8 days (e.g. a 365-day decline filter) are
 * chained, since setTimeout would otherwise fire them after 1 ms.
 */
export class SystemClock implements Clock {
  private readonly unref: boolean;

  constructor(options: SystemClockOptions = {}) {
    this.unref = options.unref ?? true;
  }

  now(): number {
    return Date.now();
  }

  setTimer(delayMs: number, fn: () => void): Cancel {
    let cancelled = false;
    let handle: NodeJS.Timeout | undefined;
    const dueMs = Date.now() + (Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0);
    const arm = (): void => {
      const left = Math.max(0, dueMs - Date.now());
      handle = setTimeout(left > MAX_TIMEOUT_MS ? arm : fire, Math.min(left, MAX_TIMEOUT_MS));
      if (this.unref) handle.unref();
    };
    const fire = (): void => {
      if (!cancelled) fn();
    };
    arm();
    return () => {
      cancelled = true;
      if (handle !== undefined) clearTimeout(handle);
    };
  }
}

/** RFC 4122 v4 UUIDs from `crypto.randomUUID`. */
export class CryptoRandom implements Random {
  uuid(): string {
    // randomUUID returns a V8 cons string (~700 B retained); a flat copy is ~56 B, and
    // scheduler state holds several UUIDs per task.
    return Buffer.from(randomUUID(), "latin1").toString("latin1");
  }
}
