/**
 * A `Persister` wrapper for crash-at-every-write tests: run a scenario once to count its writes
 * (`writes`), then rerun it with `failFromWrite = k` for every k, restart on the inner store,
 * and check recovery. Reads always pass through.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { Persister, PersisterOp, Versioned } from "../../engine/ports.js";

export interface FaultInjectingPersisterOptions {
  /** 1-based index of the first `multi` call to fail; it and every later one fail. @default undefined (never) */
  readonly failFromWrite?: number;
  /**
   * "before": the failing write is not applied (the store was unreachable).
   * "after": it is applied, then the caller sees the failure (the reply was lost).
   * @default "before"
   */
  readonly mode?: "before" | "after";
  /** Whether `close()` also closes the inner store; off so a "restarted" scheduler can reuse it. @default false */
  readonly closeInner?: boolean;
}

/** Passes everything to `inner` until the configured write, then fails writes with "unavailable". */
export class FaultInjectingPersister implements Persister {
  /** `multi` calls seen so far, failed ones included. */
  writes = 0;
  /** `multi` calls that were failed on purpose. */
  injectedFailures = 0;
  private failFrom: number | undefined;
  private readonly mode: "before" | "after";
  private readonly closeInner: boolean;
  readonly maxMultiBytes?: number;

  constructor(
    readonly inner: Persister,
    options: FaultInjectingPersisterOptions = {},
  ) {
    this.failFrom = options.failFromWrite;
    this.mode = options.mode ?? "before";
    this.closeInner = options.closeInner ?? false;
    if (inner.maxMultiBytes !== undefined) this.maxMultiBytes = inner.maxMultiBytes;
  }

  /** Fails the `k`-th write (1-based, counted from construction) and every later one. */
  failFromWrite(k: number): void {
    this.failFrom = k;
  }

  /** Stops injecting failures. */
  heal(): void {
    this.failFrom = undefined;
  }

  get(path: string): Promise<Versioned | undefined> {
    return this.inner.get(path);
  }

  getMany(paths: readonly string[]): Promise<(Versioned | undefined)[]> {
    return this.inner.getMany ? this.inner.getMany(paths) : Promise.all(paths.map((p) => this.inner.get(p)));
  }

  children(path: string): Promise<string[]> {
    return this.inner.children(path);
  }

  async multi(ops: readonly PersisterOp[]): Promise<void> {
    const n = ++this.writes;
    const fail = this.failFrom !== undefined && n >= this.failFrom;
    if (fail && this.mode === "before") throw this.injected(n);
    await this.inner.multi(ops);
    if (fail) throw this.injected(n);
  }

  async close(): Promise<void> {
    if (this.closeInner) await this.inner.close();
  }

  private injected(n: number): SchedulerError {
    this.injectedFailures++;
    return new SchedulerError(
      "unavailable",
      `injected fault: write ${n} (failing from write ${this.failFrom})`,
    );
  }
}
