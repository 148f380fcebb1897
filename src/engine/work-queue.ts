/**
 * Runs engine work one item at a time. Cluster callbacks only enqueue, so no handler ever runs
 * inside another and a service is never called twice at once.
 */
import type { Logger } from "./ports.js";

export class WorkQueue {
  private tail: Promise<void> = Promise.resolve();
  private depth = 0;
  /** Runs after every item, before the next one starts (plan-events.ts records what the item changed). */
  afterEach: (() => void) | undefined;

  constructor(private readonly log: Logger) {}

  /** Queues `fn`; the returned promise settles with it. Failures are also logged. */
  run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    this.depth++;
    const result = this.tail.then(fn);
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

  /** Queues `fn` and does not wait; errors are logged. */
  post(what: string, fn: () => Promise<void>): void {
    void this.run(what, fn).catch(() => undefined);
  }

  /** Resolves once everything queued so far has run. */
  async idle(): Promise<void> {
    while (this.depth > 0) await this.tail;
  }
}
