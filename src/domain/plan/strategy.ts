/**
 * Which steps may be worked on now (dcos-commons §1.12 "Strategies"). A candidate is a step
 * waiting for an offer: PENDING or PREPARED, not interrupted. A serial container only ever
 * looks at its first incomplete child, so a step that is STARTING blocks the ones after it.
 */
import type { Phase, Plan, Step } from "./model.js";

function isComplete(step: Step): boolean {
  return step.status === "COMPLETE";
}

function wantsOffer(step: Step): boolean {
  return !step.interrupted && (step.status === "PENDING" || step.status === "PREPARED");
}

/** Steps of one pod instance stay sequential even in a parallel phase. */
function parallelCandidates(steps: readonly Step[]): Step[] {
  const seen = new Set<number>();
  const out: Step[] = [];
  for (const step of steps) {
    if (isComplete(step) || seen.has(step.podIndex)) continue;
    seen.add(step.podIndex);
    if (wantsOffer(step)) out.push(step);
  }
  return out;
}

export function phaseCandidates(phase: Phase): Step[] {
  switch (phase.strategy) {
    case "parallel":
    case "parallel-canary":
    case "dependency":
      return parallelCandidates(phase.steps);
    case "serial":
    case "serial-canary":
    case "canary": {
      const next = phase.steps.find((s) => !isComplete(s));
      return next && wantsOffer(next) ? [next] : [];
    }
  }
}

export function isPhaseComplete(phase: Phase): boolean {
  return phase.steps.every(isComplete);
}

/** Candidate steps of a plan in plan order; none while the plan is interrupted. */
export function planCandidates(plan: Plan): Step[] {
  if (plan.interrupted || plan.errors.length > 0) return [];
  if (plan.strategy === "parallel") return plan.phases.flatMap(phaseCandidates);
  const next = plan.phases.find((p) => !isPhaseComplete(p));
  return next ? phaseCandidates(next) : [];
}
