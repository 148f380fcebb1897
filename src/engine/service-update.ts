/**
 * A put of a new spec for a running service (§3.4, §1.13): what changes, and the writes that
 * make it the target.
 */
import { SchedulerError } from "../domain/errors.js";
import type { BackoffState } from "../domain/plan/backoff.js";
import type { ServicePlans } from "../domain/service/plans.js";
import type { StoredTask } from "../domain/service/task-record.js";
import type { ManagedService, UpdateOutcome } from "./managed-service.js";
import type { BuiltService } from "./service-context.js";
import type { StateStore } from "./store/state-store.js";

/** The running service an update starts from. */
export interface UpdateBase {
  readonly service: { readonly built: BuiltService; readonly configId: string; readonly name: string };
  readonly tasks: Map<string, StoredTask>;
  readonly plans: ServicePlans;
  readonly frameworkId: string;
  readonly backoff: BackoffState;
  readonly store: StateStore;
}

export function prepareServiceUpdate(
  base: UpdateBase,
  built: BuiltService,
  _configId: string,
  _options: { readonly dryRun: boolean },
  _replace: (carried: { tasks: Map<string, StoredTask>; plans: ServicePlans; frameworkId: string; backoff: BackoffState }) => ManagedService,
): UpdateOutcome {
  if (base.service.built.rendered === built.rendered) {
    return { unchanged: true, change: { relaunched: [], added: [], decommissioned: [], violations: [] } };
  }
  throw new SchedulerError("failed_precondition", `service '${base.service.name}' exists with a different spec; reconfiguration is not implemented yet`);
}
