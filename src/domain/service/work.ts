/**
 * Steps 1–3 of a decision (`decide.ts`): a service's plans brought up to date — DELAYED steps
 * whose back-off is over go PENDING, dead RUNNING-goal tasks no plan works on get their pod
 * instance's recovery step — and the candidate steps that want offers. Pure: the plans are
 * copied when they change (only the candidate steps, when nothing else does).
 */
import type { BackoffState } from "../plan/backoff.js";
import { failuresOf, holdStep } from "../plan/backoff.js";
import type { Step } from "../plan/model.js";
import { applyRecoveryDecision, planRecovery } from "../plan/recovery.js";
import type { FailedTask, RecoveryDecision } from "../plan/recovery.js";
import { setStepMessage } from "../plan/step.js";
import { planCandidates } from "../plan/strategy.js";
import type { ServiceState } from "./model.js";
import type { ServicePlans } from "./plans.js";
import { allPlans, clonePlans } from "./plans.js";
import { podMembers } from "./pod-members.js";
import { failedTasks } from "./task-record.js";

type NewId = () => string;

/** Steps 1–3: the service's plans brought up to date, and the steps that want offers. */
export interface Work {
  readonly plans: ServicePlans;
  readonly backoff: BackoffState;
  readonly recoveries: readonly RecoveryDecision[];
  readonly recoveryDeferred: boolean;
  readonly candidates: readonly Step[];
  /** A pod instance is being replaced (permanent recovery unfinished): it wants new reservations. */
  readonly replacing: boolean;
}

function replacing(plans: ServicePlans, failed: readonly FailedTask[]): boolean {
  if (failed.some((f) => f.permanent)) return true;
  return plans.recovery.phases.some((ph) => ph.steps.some((s) => s.recovery?.permanent === true && s.status !== "COMPLETE"));
}

function releaseBackoff(plans: ServicePlans, backoff: BackoffState, nowMs: number): BackoffState {
  if (backoff.heldUntilMs.size === 0) return backoff;
  const steps = new Map(allPlans(plans).flatMap((p) => p.phases.flatMap((ph) => ph.steps.map((s) => [s.id, s] as const))));
  const held = new Map(backoff.heldUntilMs);
  for (const [id, until] of backoff.heldUntilMs) {
    const step = steps.get(id);
    if (step?.status !== "DELAYED") {
      held.delete(id);
      continue;
    }
    if (until > nowMs) continue;
    step.status = "PENDING";
    if (step.recovery) setStepMessage(step, "relaunching");
    held.delete(id);
  }
  return { ...backoff, heldUntilMs: held };
}

function recoveryFor(state: ServiceState, failed: readonly FailedTask[], plans: ServicePlans, backoff: BackoffState): ReturnType<typeof planRecovery> {
  if (failed.length === 0) return { decisions: [], deferred: false };
  return planRecovery({
    plans: [plans.deploy, ...plans.custom, ...(plans.decommission ? [plans.decommission] : [])],
    recovery: plans.recovery,
    failed,
    failuresInARow: (pod) => failuresOf(backoff, pod),
    members: podMembers(state.tasks, state.slots, failed),
  });
}

/**
 * `willTouch`: the candidates are going to be looked at (their steps may change). The plans are
 * copied only when something is going to change them; otherwise the input's come back as they are.
 */
export function prepareWork(state: ServiceState, nowMs: number, newId: NewId, willTouch: boolean): Work {
  const failed = failedTasks(state.tasks, state.slots);
  const first = recoveryFor(state, failed, state.plans, state.backoff);
  const unchanged = first.decisions.length === 0 && state.backoff.heldUntilMs.size === 0;
  if (unchanged) {
    const c = candidates(state.plans);
    if (!willTouch || c.length === 0) {
      return { plans: state.plans, backoff: state.backoff, recoveries: [], recoveryDeferred: first.deferred, candidates: c, replacing: replacing(state.plans, failed) };
    }
    // Only the candidates are going to change.
    const plans = clonePlans(state.plans, new Set(c.map((s) => s.id)));
    return { plans, backoff: state.backoff, recoveries: [], recoveryDeferred: first.deferred, candidates: candidates(plans), replacing: replacing(plans, failed) };
  }
  const plans = clonePlans(state.plans);
  let backoff = releaseBackoff(plans, state.backoff, nowMs);
  const { decisions, deferred } = recoveryFor(state, failed, plans, backoff);
  for (const d of decisions) {
    const { step } = applyRecoveryDecision(plans.recovery, d, newId);
    const held = new Map(backoff.heldUntilMs);
    held.delete(step.id);
    backoff = { ...backoff, heldUntilMs: held };
    if (d.delayMs > 0) backoff = holdStep(backoff, step.id, nowMs + d.delayMs);
  }
  return { plans, backoff, recoveries: decisions, recoveryDeferred: deferred, candidates: candidates(plans), replacing: replacing(plans, failed) };
}

/**
 * Candidate steps of deploy, recovery, decommission, then the custom plans (the reference's
 * PlanCoordinator order; a custom plan offers steps once the operator started it); a pod
 * instance claimed by an earlier plan is skipped in the later ones.
 */
function candidates(plans: ServicePlans): Step[] {
  const claimed = new Set<string>();
  const out: Step[] = [];
  for (const plan of [plans.deploy, plans.recovery, ...(plans.decommission ? [plans.decommission] : []), ...plans.custom]) {
    for (const step of planCandidates(plan)) {
      const pod = `${step.podType}-${step.podIndex}`;
      if (claimed.has(pod)) continue;
      claimed.add(pod);
      out.push(step);
    }
  }
  return out;
}
