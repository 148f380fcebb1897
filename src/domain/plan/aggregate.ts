/**
 * Status of a phase or plan from its children, after dcos-commons §1.12 (ordered rules, first
 * match wins). Plans and phases carry no status of their own; it is always derived, so it can
 * never disagree with the steps.
 */
import type { Phase, Plan, Step } from "./model.js";
import type { Status } from "./status.js";

export function stepDisplayStatus(step: Step): Status {
  if (step.interrupted && (step.status === "PENDING" || step.status === "PREPARED")) {
    return "WAITING";
  }
  return step.status;
}

export function aggregateStatus(
  children: readonly Status[],
  interrupted: boolean,
  hasErrors: boolean,
): Status {
  const has = (s: Status): boolean => children.includes(s);
  if (hasErrors || has("ERROR")) return "ERROR";
  if (children.every((s) => s === "COMPLETE")) return "COMPLETE";
  if (interrupted) return "WAITING";
  if (children.every((s) => s === "COMPLETE" || s === "DELAYED")) return "DELAYED";
  if (has("PREPARED") || has("IN_PROGRESS")) return "IN_PROGRESS";
  if (has("COMPLETE")) return "IN_PROGRESS";
  if (has("PENDING")) return "PENDING";
  if (has("WAITING")) return "WAITING";
  if (has("STARTING")) return "STARTING";
  if (has("STARTED")) return "STARTED";
  return "ERROR";
}

export function phaseStatus(phase: Phase): Status {
  return aggregateStatus(phase.steps.map(stepDisplayStatus), false, false);
}

export function planStatus(plan: Plan): Status {
  return aggregateStatus(plan.phases.map(phaseStatus), plan.interrupted, plan.errors.length > 0);
}
