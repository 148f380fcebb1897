/**
 * Which steps may be worked on now (dcos-commons §1.12 "Strategies"). A candidate is a step
 * waiting for an offer: PENDING or PREPARED, not interrupted. A serial container only ever
 * looks at its first incomplete child, so a step that is STARTING blocks the ones after it.
 *
 * Canary strategies (`canary` = `serial-canary`, `parallel-canary`): the first two pending steps
 * of the phase wait, interrupted, for the operator's `continue`; each continue releases one.
 * Until both are released only the steps before the first waiting one may run; after that the
 * wrapped strategy (serial or parallel) takes over the whole phase.
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

/** The strategy a canary phase runs once its canary steps are released. */
export function wrappedStrategy(phase: Phase): "serial" | "parallel" {
  return phase.strategy === "parallel" || phase.strategy === "parallel-canary" || phase.strategy === "dependency" ? "parallel" : "serial";
}

export function isCanaryStrategy(strategy: Phase["strategy"]): boolean {
  return strategy === "canary" || strategy === "serial-canary" || strategy === "parallel-canary";
}

/** The phase waits for the operator to release a canary step. */
export function waitsForCanary(phase: Phase): boolean {
  return (phase.canary?.length ?? 0) > 0;
}

/** The steps the phase's strategy may look at: during a canary, those before the first waiting one. */
function activeSteps(phase: Phase): readonly Step[] {
  const waiting = phase.canary?.[0];
  if (waiting === undefined) return phase.steps;
  const at = phase.steps.findIndex((s) => s.name === waiting);
  return at < 0 ? phase.steps : phase.steps.slice(0, at);
}

export function phaseCandidates(phase: Phase): Step[] {
  if (phase.interrupted) return [];
  const steps = activeSteps(phase);
  if (wrappedStrategy(phase) === "parallel") return parallelCandidates(steps);
  const next = steps.find((s) => !isComplete(s));
  return next && wantsOffer(next) ? [next] : [];
}

export function isPhaseComplete(phase: Phase): boolean {
  return phase.steps.every(isComplete);
}

/** The phases a plan's strategy works on now: the first incomplete one (serial), or all incomplete. */
export function activePhases(plan: Plan): Phase[] {
  const open = plan.phases.filter((p) => !isPhaseComplete(p));
  return plan.strategy === "parallel" ? open : open.slice(0, 1);
}

/** Candidate steps of a plan in plan order; none while the plan is interrupted. */
export function planCandidates(plan: Plan): Step[] {
  if (plan.interrupted || plan.errors.length > 0) return [];
  // A loop, not activePhases(plan).flatMap(…): this runs several times per decision.
  const out: Step[] = [];
  for (const phase of plan.phases) {
    if (isPhaseComplete(phase)) continue;
    for (const step of phaseCandidates(phase)) out.push(step);
    if (plan.strategy !== "parallel") break;
  }
  return out;
}

/**
 * The first two pending steps of a canary phase, interrupted until the operator continues them
 * (a transition on the phase given, like `step.ts`). Any earlier canary is forgotten first, so a
 * plan resumed from its task records picks the steps that are still pending.
 */
export function armCanary(phase: Phase): void {
  if (!isCanaryStrategy(phase.strategy)) return;
  const before = new Set(phase.canary ?? []);
  for (const s of phase.steps) if (before.has(s.name)) s.interrupted = false;
  const canary = phase.steps.filter((s) => s.status === "PENDING").slice(0, 2);
  for (const s of canary) s.interrupted = true;
  phase.canary = canary.map((s) => s.name);
}
