/**
 * The state a running service (ServiceScheduler) lends to the modules that steer it — plan
 * control (service-plan-control.ts) and pod control (service-pod-control.ts) — so each of
 * them is a file of its own instead of more methods on the scheduler. Called only inside the
 * runner's work queue, like every other call on a service.
 */
import type { BackoffState } from "../domain/plan/backoff.js";
import type { ServicePlans } from "../domain/service/plans.js";
import type { StoredTask, TaskSlot } from "../domain/service/task-record.js";
import type { Logger } from "./ports.js";
import type { BuiltService } from "./service-context.js";
import type { StateStore } from "./store/state-store.js";

export interface ServiceInternals {
  readonly name: string;
  readonly built: BuiltService;
  readonly configId: string;
  readonly slots: ReadonlyMap<string, TaskSlot>;
  readonly store: StateStore;
  readonly log: Logger;
  /** Replaced, never changed in place by a caller (views may share the old plans). */
  plans: ServicePlans;
  readonly tasks: Map<string, StoredTask>;
  backoff: BackoffState;
  /** Task IDs whose reconciliation answer has not come. */
  readonly unreconciled: Set<string>;
  /** Paused pod instances (`hello-0`); replaced, never changed in place. */
  paused: ReadonlySet<string>;
  now(): number;
  newId(): string;
  /** Something changed: the service decides again on the next cycle. */
  touch(): void;
}
