/**
 * The mono scheduler's view of the store: the engine writes its one service at the schema-2
 * paths (`Services/<escaped>/…`, `ServiceList/<escaped>/…`) and this view keeps them at the
 * schema-1 places, directly under the root (ConfigTarget, Configurations, Properties, Tasks, and
 * Corral's own nodes of that service). Every other path passes through.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { Persister, PersisterOp, Versioned } from "../ports.js";

export class MonoLayoutPersister implements Persister {
  constructor(
    private readonly inner: Persister,
    /** The framework name: the mono service's name. */
    readonly frameworkName: string,
  ) {}

  get(path: string): Promise<Versioned | undefined> {
    void path;
    throw new SchedulerError("unimplemented", "MonoLayoutPersister: contract stub");
  }

  children(path: string): Promise<string[]> {
    void path;
    throw new SchedulerError("unimplemented", "MonoLayoutPersister: contract stub");
  }

  multi(ops: readonly PersisterOp[]): Promise<void> {
    void ops;
    throw new SchedulerError("unimplemented", "MonoLayoutPersister: contract stub");
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}
