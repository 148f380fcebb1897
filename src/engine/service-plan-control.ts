/**
 * Plan control of a running service (dcos-commons §1.10): the operator's actions on a plan, a
 * phase or a step, stored as overrides that a restarted scheduler applies again (the reference
 * loses them, §7.1 item 10).
 */
import { SchedulerError } from "../domain/errors.js";
import type { PlanControlInput, PlanControlResult } from "./admin-api.js";
import type { PreparedControl } from "./managed-service.js";
import type { ServiceInternals } from "./service-internals.js";

/** Checks `input` against the service's plans; stores and applies nothing. */
export function preparePlanControl(svc: ServiceInternals, input: PlanControlInput): PreparedControl<PlanControlResult> {
  void svc;
  void input;
  throw new SchedulerError("unimplemented", "plan control is not built yet");
}

/** After load (recovery) or build: the stored overrides applied to the plans again. */
export function restorePlanOverrides(svc: ServiceInternals, stored: Uint8Array | undefined): void {
  void svc;
  void stored;
}
