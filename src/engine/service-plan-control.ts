/**
 * Plan control of a running service (dcos-commons §1.10): the operator's actions on a plan, a
 * phase or a step, stored as overrides that a restarted scheduler applies again (the reference
 * loses them, §7.1 item 10).
 *
 * A reconfiguration builds new plans for the new config and drops every override (the deploy
 * plan's and the custom plans'), in memory as after a restart: the stored overrides name the
 * config they were given on, and are not applied to another.
 */
import type { BackoffState } from "../domain/plan/backoff.js";
import { applyPlanControl, checkControl } from "../domain/plan/control.js";
import type { Plan, Step } from "../domain/plan/model.js";
import type { PlanOverrides } from "../domain/plan/overrides.js";
import { applyOverride, captureOverrides } from "../domain/plan/overrides.js";
import { SchedulerError, abbreviate, abbreviateList } from "../domain/errors.js";
import { allPlans, clonePlans } from "../domain/service/plans.js";
import { taskInstanceName } from "../domain/task-id.js";
import type { PlanControlInput, PlanControlResult } from "./admin-api.js";
import type { PreparedControl } from "./managed-service.js";
import type { PersisterOp } from "./ports.js";
import type { ServiceInternals } from "./service-internals.js";
import { toPlanView } from "./service-view.js";
import { decodeJson, encodeJson } from "./store/codec.js";
import * as layout from "./store/layout.js";

function findPlan(svc: ServiceInternals, plans: readonly Plan[], name: string): Plan {
  const plan = plans.find((p) => p.name === name);
  if (plan) return plan;
  const known = abbreviateList(plans.map((p) => p.name), 20);
  throw new SchedulerError("not_found", `service '${svc.name}' has no plan '${abbreviate(name)}' (plans: ${known})`);
}

/** The steps set back to PENDING start afresh: no hold, and their pod instances' failure counts forgotten. */
function clearBackoff(backoff: BackoffState, reset: readonly Step[]): BackoffState {
  if (reset.length === 0) return backoff;
  const held = new Map(backoff.heldUntilMs);
  const counts = new Map(backoff.counts);
  for (const s of reset) {
    held.delete(s.id);
    counts.delete(`${s.podType}-${s.podIndex}`);
  }
  return { counts, heldUntilMs: held };
}

/** Checks `input` against the service's plans; stores and applies nothing. */
export function preparePlanControl(svc: ServiceInternals, input: PlanControlInput): PreparedControl<PlanControlResult> {
  const target = { phase: input.phase, step: input.step };
  checkControl(input.action, target, input.parameters);
  const plans = clonePlans(svc.plans);
  const plan = findPlan(svc, allPlans(plans), input.plan);
  const outcome = applyPlanControl(plan, input.action, target, input.parameters);
  if (!outcome.changed) return { ops: [], kills: [], apply: () => ({ plan: toPlanView(plan), changed: false }) };
  const overrides = captureOverrides(allPlans(plans), svc.configId);
  const ops: PersisterOp[] = [{ kind: "set", path: layout.planOverridesPath(svc.name), data: encodeJson(overrides) }];
  return {
    ops,
    // Running tasks of restarted steps are killed by the decision core when each step's turn comes.
    kills: [],
    apply: () => {
      svc.plans = plans;
      svc.backoff = clearBackoff(svc.backoff, outcome.reset);
      svc.touch();
      svc.log.info({ plan: plan.name, action: input.action, phase: input.phase, step: input.step }, `plan ${plan.name}: ${input.action}`);
      return { plan: toPlanView(plan), changed: true };
    },
  };
}

function isOverrides(value: unknown): value is PlanOverrides {
  const v = value as Partial<PlanOverrides> | null;
  return typeof v === "object" && v !== null && typeof v.configId === "string" && Array.isArray(v.plans);
}

/** After load (recovery) or build: the stored overrides applied to the plans again. */
export function restorePlanOverrides(svc: ServiceInternals, stored: Uint8Array | undefined): void {
  if (!stored) return;
  let overrides: unknown;
  try {
    overrides = decodeJson(stored);
  } catch (err) {
    svc.log.warn({ err }, "stored plan overrides are not JSON: ignored");
    return;
  }
  if (!isOverrides(overrides)) {
    svc.log.warn({}, "stored plan overrides have an unknown shape: ignored");
    return;
  }
  if (overrides.configId !== svc.configId) {
    svc.log.info({ configId: overrides.configId }, "plan overrides were given on an earlier config: dropped");
    return;
  }
  const plans = clonePlans(svc.plans);
  const byName = new Map(allPlans(plans).map((p) => [p.name, p]));
  const recordTaskId = (step: Step, task: string): string | undefined => svc.tasks.get(taskInstanceName(step.podType, step.podIndex, task))?.info.taskId;
  for (const o of overrides.plans) {
    const plan = byName.get(o.plan);
    if (plan) applyOverride(plan, o, recordTaskId);
  }
  svc.plans = plans;
  svc.touch();
}
