/**
 * Status of a phase or plan from its children, after dcos-commons §1.12 (ordered rules, first
 * match wins). Plans and phases carry no status of their own; it is always derived, so it can
 * never disagree with the steps. The candidates are the children the strategy works on now
 * (serial: the first incomplete one; parallel: every incomplete one).
 */
import type { Phase, Plan, Step } from "./model.js";
import type { Status } from "./status.js";
import { activePhases, waitsForCanary, wrappedStrategy } from "./strategy.js";

export function stepDisplayStatus(step: Step): Status {
  if (step.interrupted && (step.status === "PENDING" || step.status === "PREPARED")) {
    return "WAITING";
  }
  return step.status;
}

/**
 * `candidates`: statuses of the children the strategy works on now (all children when not
 * given). `interrupted`: the element itself waits for the operator.
 */
export function aggregateStatus(
  children: readonly Status[],
  interrupted: boolean,
  hasErrors: boolean,
  candidates: readonly Status[] = children,
): Status {
  const has = (s: Status): boolean => children.includes(s);
  const candidate = (s: Status): boolean => candidates.includes(s);
  if (hasErrors || has("ERROR")) return "ERROR";
  if (children.every((s) => s === "COMPLETE")) return "COMPLETE";
  if (interrupted) return "WAITING";
  if (children.every((s) => s === "COMPLETE" || s === "DELAYED")) return "DELAYED";
  if (has("PREPARED") || has("IN_PROGRESS")) return "IN_PROGRESS";
  if (candidate("WAITING")) return "WAITING";
  const moving = candidate("PENDING") || candidate("STARTING") || candidate("STARTED");
  if (has("COMPLETE") && moving) return "IN_PROGRESS";
  if (candidate("PENDING")) return "PENDING";
  if (has("WAITING")) return "WAITING";
  if (candidate("STARTING")) return "STARTING";
  if (candidate("STARTED")) return "STARTED";
  // Past the reference's rules (it logs these as unexpected): the nearest honest answer.
  if (has("COMPLETE")) return "IN_PROGRESS";
  if (has("PENDING")) return "PENDING";
  if (has("STARTING")) return "STARTING";
  if (has("STARTED")) return "STARTED";
  return "ERROR";
}

function stepCandidates(phase: Phase): Step[] {
  const open = phase.steps.filter((s) => s.status !== "COMPLETE");
  return wrappedStrategy(phase) === "parallel" ? open : open.slice(0, 1);
}

/** A phase waiting for a canary `continue` shows WAITING, like an interrupted one. */
export function phaseStatus(phase: Phase): Status {
  return aggregateStatus(
    phase.steps.map(stepDisplayStatus),
    phase.interrupted === true || waitsForCanary(phase),
    false,
    stepCandidates(phase).map(stepDisplayStatus),
  );
}

export function planStatus(plan: Plan): Status {
  return aggregateStatus(plan.phases.map(phaseStatus), plan.interrupted, plan.errors.length > 0, activePhases(plan).map(phaseStatus));
}
