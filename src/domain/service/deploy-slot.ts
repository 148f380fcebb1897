/**
 * The deployment limit as the decision core sees it (dcos-commons §1.4, §7.2 hazard 9): whether
 * a service's deploy plan is acquiring resources (it then needs a deploy slot), and what its
 * deploy steps say while it waits for one.
 */
import type { Plan, Step } from "../plan/model.js";
import { allSteps } from "../plan/model.js";
import { setStepMessage } from "../plan/step.js";
import { planCandidates } from "../plan/strategy.js";
import type { UnplacedStep } from "./model.js";

/**
 * An unfinished deploy plan is acquiring while some step wants an offer or has tasks starting
 * (the same as `!waitsForOperator(deploy)` and either of those, plan/waits-for-operator.ts).
 * One that waits for an operator (stopped, interrupted, a canary waiting for `continue`), is
 * stuck in ERROR or waits out a back-off is not, so it holds no deploy slot (the reference keeps
 * the slot forever, hazard 9); it queues again when it goes on.
 */
export function deployAcquiring(deploy: Plan): boolean {
  // What `!waitsForOperator(deploy) && (candidates || launching)` says, with the candidates
  // worked out once: this runs in every decision of every deploying service.
  if (planCandidates(deploy).length > 0) return true;
  const steps = allSteps(deploy);
  if (!steps.some(launching)) return false;
  return !deploy.interrupted || deploy.errors.length > 0 || steps.some((s) => s.status === "ERROR");
}

function launching(step: Step): boolean {
  return step.status === "STARTING" || step.status === "STARTED";
}

/**
 * The steps that want new reservations — deploy steps, and recovery steps replacing a pod — and
 * that no offer took while the service may not acquire any say why (`waiting for a deploy slot:
 * 1 of 1 held by svc-a`); other unplaced steps keep their reason.
 */
export function waitForDeploySlot(deploy: Plan, recovery: Plan, unplaced: readonly UnplacedStep[], reason: string): UnplacedStep[] {
  const replacing = allSteps(recovery).filter((s) => s.recovery?.permanent === true);
  const steps = new Map([...allSteps(deploy), ...replacing].map((s) => [s.id, s] as const));
  return unplaced.map((u) => {
    const step = steps.get(u.stepId);
    if (!step) return u;
    setStepMessage(step, reason);
    return { stepId: u.stepId, reason };
  });
}
