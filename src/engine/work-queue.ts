/**
 * Runs engine work one item at a time. Cluster callbacks only enqueue, so no handler ever runs
 * inside another and a service is never called twice at once.
 */
import type { Logger } from "./ports.js";
import type { TraceRef, Tracer } from "./telemetry.js";
import { NO_TRACER } from "./telemetry.js";

export class WorkQueue {
  private tail: Promise<void> = Promise.resolve();
  private depth = 0;
  /** Runs after every item, before the next one starts (plan-events.ts records what the item changed). */
  afterEach: (() => void) | undefined;

  constructor(
    private readonly log: Logger,
    private readonly tracer: Tracer = NO_TRACER,
  ) {}

  /**
   * Queues `fn`; the returned promise settles with it. Failures are also logged. The item is part
   * of `trace`: by default the span current as it is queued (a request's, when queued
   * synchronously from it; telemetry.ts).
   */
  run<T>(what: string, fn: () => Promise<T>, trace: TraceRef | undefined = this.tracer.current()): Promise<T> {
    return this.enqueue(what, fn, trace);
  }

  private enqueue<T>(what: string, fn: () => Promise<T>, trace: TraceRef | undefined): Promise<T> {
    this.depth++;
    const result = this.tail.then(() => this.tracer.unit(trace, fn));
    this.tail = result.then(
      () => {
        this.depth--;
        this.settled(what);
      },
      (err: unknown) => {
        this.depth--;
        this.log.error({ err, what }, "engine work failed");
        this.settled(what);
      },
    );
    return result;
  }

  private settled(what: string): void {
    try {
      this.afterEach?.();
    } catch (err) {
      this.log.error({ err, what }, "work after an engine item failed");
    }
  }

  /** Queues `fn` (engine work of its own, part of no request's trace) and does not wait; errors are logged. */
  post(what: string, fn: () => Promise<void>): void {
    void this.enqueue(what, fn, undefined).catch(() => undefined);
  }

  /** Resolves once everything queued so far has run. */
  async idle(): Promise<void> {
    while (this.depth > 0) await this.tail;
  }
}
