/**
 * Deterministic time and randomness for tests: nothing happens until the test calls
 * `advance(ms)`, and UUIDs are a pure function of the seed.
 */
import type { Cancel, Clock, Random } from "../engine/ports.js";

interface Timer {
  readonly dueMs: number;
  /** Creation order; breaks ties so timers due at the same instant run FIFO. */
  readonly seq: number;
  readonly fn: () => void;
}

function before(a: Timer, b: Timer): boolean {
  return a.dueMs < b.dueMs || (a.dueMs === b.dueMs && a.seq < b.seq);
}

/**
 * A manually driven `Clock`. `advance(ms)` runs every timer that falls due within the window in
 * time order (FIFO among equal due times), including timers scheduled by those timers, and
 * leaves `now()` at the end of the window. Timers with a delay of 0 run on the next `advance`,
 * never inside `setTimer`.
 */
export class FakeClock implements Clock {
  private nowMs: number;
  private seq = 0;
  /** Binary min-heap on (dueMs, seq); cancelled timers are removed lazily. */
  private readonly heap: Timer[] = [];
  private readonly live = new Set<number>();
  private advancing = false;

  /** @param startMs the initial epoch time; @default 1_700_000_000_000 (a fixed date, so logs are stable) */
  constructor(startMs = 1_700_000_000_000) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimer(delayMs: number, fn: () => void): Cancel {
    const seq = ++this.seq;
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    this.push({ dueMs: this.nowMs + delay, seq, fn });
    this.live.add(seq);
    return () => {
      this.live.delete(seq);
    };
  }

  /** Number of timers scheduled and neither run nor cancelled. */
  pending(): number {
    return this.live.size;
  }

  /** Epoch ms at which the next live timer falls due, or undefined when none is pending. */
  nextDueMs(): number | undefined {
    this.dropCancelled();
    return this.heap[0]?.dueMs;
  }

  /** Moves time forward by `ms`, running due timers in order. Throws if called from a timer. */
  advance(ms: number): void {
    const target = this.begin(ms);
    try {
      for (let t = this.takeDue(target); t; t = this.takeDue(target)) t.fn();
    } finally {
      this.end(target);
    }
  }

  /**
   * Like `advance`, but lets pending promise continuations and I/O callbacks run (one
   * `setImmediate` turn) before and after each timer, so async work started by a timer can
   * schedule follow-up timers that still fall inside the window.
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.begin(ms);
    try {
      await flush();
      for (let t = this.takeDue(target); t; t = this.takeDue(target)) {
        t.fn();
        await flush();
      }
    } finally {
      this.end(target);
    }
  }

  private begin(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance(${ms}): ms must be >= 0`);
    if (this.advancing) throw new Error("FakeClock.advance called re-entrantly from a timer");
    this.advancing = true;
    return this.nowMs + ms;
  }

  private end(target: number): void {
    this.advancing = false;
    this.nowMs = Math.max(this.nowMs, target);
  }

  private takeDue(targetMs: number): Timer | undefined {
    this.dropCancelled();
    const top = this.heap[0];
    if (!top || top.dueMs > targetMs) return undefined;
    this.pop();
    this.live.delete(top.seq);
    this.nowMs = top.dueMs;
    return top;
  }

  private dropCancelled(): void {
    while (this.heap[0] && !this.live.has(this.heap[0].seq)) this.pop();
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop();
    if (last === undefined || h.length === 0) return;
    h[0] = last;
    for (let i = 0; ;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[l]!, h[m]!)) m = l;
      if (r < h.length && before(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Deterministic `Random`: a mulberry32 PRNG formatted as RFC 4122 v4 UUIDs. The same seed gives
 * the same sequence on every run and platform.
 */
export class SeededRandom implements Random {
  private state: number;

  /** @param seed a number or a string (hashed); @default 1 */
  constructor(seed: number | string = 1) {
    this.state = typeof seed === "number" ? seed >>> 0 : hashString(seed);
  }

  /** Next 32-bit unsigned integer (mulberry32). */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextUint32() / 2 ** 32;
  }

  uuid(): string {
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i += 4) {
      const n = this.nextUint32();
      bytes[i] = n >>> 24;
      bytes[i + 1] = (n >>> 16) & 0xff;
      bytes[i + 2] = (n >>> 8) & 0xff;
      bytes[i + 3] = n & 0xff;
    }
    bytes[6] = (bytes[6]! & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10xx
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}

/** FNV-1a, 32-bit. */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
