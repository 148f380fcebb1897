/**
 * Whether a plan can go on without an operator (§7.2 hazard 9: a deploy plan that waits for a
 * canary `continue` or was stopped must not hold a deployment slot forever).
 */
import type { Plan } from "./model.js";
import { allSteps } from "./model.js";
import { planCandidates } from "./strategy.js";

/**
 * True when the plan is unfinished and nothing moves it on but an operator's action: the plan is
 * interrupted (stopped, or a manual plan not started), or no step wants an offer and none is
 * launching, running or waiting out a back-off — every step that could go next is interrupted
 * (a canary step waiting for `continue`, an interrupted phase or step). A plan with errors is
 * not counted here (it is ERROR, not waiting).
 */
export function waitsForOperator(plan: Plan): boolean {
  const steps = allSteps(plan);
  if (steps.every((s) => s.status === "COMPLETE")) return false;
  if (plan.errors.length > 0 || steps.some((s) => s.status === "ERROR")) return false;
  if (plan.interrupted) return true;
  if (planCandidates(plan).length > 0) return false;
  return !steps.some((s) => s.status === "STARTING" || s.status === "STARTED" || s.status === "DELAYED");
}
