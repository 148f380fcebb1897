/**
 * The scheduler's one fenced writer: every state write of the engine (service puts and updates,
 * launches and statuses, removal writes, the end of an uninstall, the FrameworkID) goes through
 * it. While the store lock is not held, another scheduler may hold it: a write is refused
 * (unavailable) instead of landing. Reads pass through. The adapter checks the lock once more
 * in the write itself (ZooKeeper: a check of the lock node in the same multi).
 */
import { SchedulerError } from "../../domain/errors.js";
import type { Persister, PersisterOp, Versioned, WriteFence } from "../ports.js";

export class FencedPersister implements Persister {
  private retired = false;
  readonly getMany?: (paths: readonly string[]) => Promise<(Versioned | undefined)[]>;
  readonly maxMultiBytes?: number;

  constructor(
    private readonly inner: Persister,
    private readonly fence: WriteFence,
  ) {
    if (inner.getMany) this.getMany = (paths) => inner.getMany!(paths);
    if (inner.maxMultiBytes !== undefined) this.maxMultiBytes = inner.maxMultiBytes;
  }

  get(path: string): Promise<Versioned | undefined> {
    return this.inner.get(path);
  }

  children(path: string): Promise<string[]> {
    return this.inner.children(path);
  }

  async multi(ops: readonly PersisterOp[]): Promise<void> {
    if (this.retired) throw new SchedulerError("unavailable", "this engine was stopped: its memory may be stale");
    if (!this.fence.holds()) throw lockLost();
    await this.inner.multi(ops);
  }

  /** From now on every write is refused (an engine replaced after its lock was lost and held again). */
  retire(): void {
    this.retired = true;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

export function lockLost(): SchedulerError {
  return new SchedulerError("unavailable", "the scheduler lost its store lock; retry once it holds it again");
}
