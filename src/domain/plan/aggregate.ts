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
  // No closures here: this runs for every phase and plan of every decision, and under tsx each
  // named inner function costs a `__name` call per run.
  if (hasErrors || children.includes("ERROR")) return "ERROR";
  let complete = 0;
  let delayed = 0;
  for (const s of children) {
    if (s === "COMPLETE") complete++;
    else if (s === "DELAYED") delayed++;
  }
  if (complete === children.length) return "COMPLETE";
  if (interrupted) return "WAITING";
  if (complete + delayed === children.length) return "DELAYED";
  if (children.includes("PREPARED") || children.includes("IN_PROGRESS")) return "IN_PROGRESS";
  if (candidates.includes("WAITING")) return "WAITING";
  const moving = candidates.includes("PENDING") || candidates.includes("STARTING") || candidates.includes("STARTED");
  if (complete > 0 && moving) return "IN_PROGRESS";
  if (candidates.includes("PENDING")) return "PENDING";
  if (children.includes("WAITING")) return "WAITING";
  if (candidates.includes("STARTING")) return "STARTING";
  if (candidates.includes("STARTED")) return "STARTED";
  // Past the reference's rules (it logs these as unexpected): the nearest honest answer.
  if (complete > 0) return "IN_PROGRESS";
  if (children.includes("PENDING")) return "PENDING";
  if (children.includes("STARTING")) return "STARTING";
  if (children.includes("STARTED")) return "STARTED";
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
  return planStatusFrom(plan, plan.phases.map(phaseStatus));
}

/** The plan's status from its phases' statuses (`phaseStatus`, in plan order) already worked out. */
export function planStatusFrom(plan: Plan, statuses: readonly Status[]): Status {
  const candidates = activePhases(plan).map((p) => statuses[plan.phases.indexOf(p)]!);
  return aggregateStatus(statuses, plan.interrupted, plan.errors.length > 0, candidates);
}
