/**
 * The operator's actions on a plan, a phase or a step (dcos-commons §1.10 MultiPlansResource):
 *
 *   START           plan only: a COMPLETE plan is restarted, then the plan is un-interrupted;
 *                   its parameters become environment for the tasks its steps launch
 *   STOP            interrupt, and every step back to PENDING (its tasks relaunch once continued)
 *   INTERRUPT       no step of the element is started until it is continued
 *   CONTINUE        un-interrupt; on a phase (or the plan's current phases) waiting for a canary
 *                   `continue`, release the next canary step instead
 *   FORCE_COMPLETE  every step COMPLETE, whether its tasks ran or not
 *   RESTART         every step back to PENDING, back-off cleared: its tasks relaunch (running ones
 *                   are killed first, by the decision core)
 *
 * `changed` is false when the element already was in the state asked for (the reference's 208).
 * Transitions on the plan given (the caller's copy), like `step.ts`.
 */
import type { FieldViolation } from "../errors.js";
import { SchedulerError, abbreviate } from "../errors.js";
import type { Phase, Plan, Step } from "./model.js";
import { allSteps } from "./model.js";
import { markComplete, setStepMessage } from "./step.js";
import { activePhases } from "./strategy.js";

/** What the operator does (the admin API's PlanAction). */
export type PlanControlAction = "START" | "STOP" | "INTERRUPT" | "CONTINUE" | "FORCE_COMPLETE" | "RESTART";

/** The element acted on: a phase and a step of it, by name or id; "" = none (the whole plan, or the whole phase). */
export interface ControlTarget {
  readonly phase: string;
  readonly step: string;
}

export interface ControlOutcome {
  readonly changed: boolean;
  /** Steps set back to PENDING: the caller clears their back-off. */
  readonly reset: readonly Step[];
}

/** An environment variable name, as the reference requires of START parameters. */
const PARAMETER_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Parameters are stored with the overrides and copied into every launch: kept small. */
export const MAX_PARAMETERS_CHARS = 64 * 1024;

/** Checks the request's shape before any plan is looked at (INVALID_ARGUMENT naming each field). */
export function checkControl(action: PlanControlAction, target: ControlTarget, parameters: Readonly<Record<string, string>>): void {
  const violations: FieldViolation[] = [];
  if (target.step !== "" && target.phase === "") violations.push({ field: "step", reason: "Missing phase: a step is named within its phase" });
  if (action === "START" && (target.phase !== "" || target.step !== "")) {
    violations.push({ field: target.phase !== "" ? "phase" : "step", reason: "START acts on a whole plan; name no phase or step" });
  }
  const keys = Object.keys(parameters);
  if (action !== "START" && keys.length > 0) violations.push({ field: "parameters", reason: `only START takes parameters, not ${action}` });
  for (const key of keys.filter((k) => !PARAMETER_KEY.test(k)).slice(0, 5)) {
    violations.push({ field: `parameters.${abbreviate(key)}`, reason: "must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*" });
  }
  const chars = keys.reduce((n, k) => n + k.length + (parameters[k]?.length ?? 0), 0);
  if (chars > MAX_PARAMETERS_CHARS) violations.push({ field: "parameters", reason: `${chars} characters; at most ${MAX_PARAMETERS_CHARS}` });
  if (violations.length > 0) throw SchedulerError.invalid(violations);
}

/** The phase and step named (by name or id); NOT_FOUND naming the one missing. */
export function resolveTarget(plan: Plan, target: ControlTarget): { phase?: Phase; step?: Step } {
  if (target.phase === "") return {};
  const phase = plan.phases.find((p) => p.name === target.phase) ?? plan.phases.find((p) => p.id === target.phase);
  if (!phase) throw new SchedulerError("not_found", `plan '${plan.name}' has no phase '${abbreviate(target.phase)}'`);
  if (target.step === "") return { phase };
  const step = phase.steps.find((s) => s.name === target.step) ?? phase.steps.find((s) => s.id === target.step);
  if (!step) throw new SchedulerError("not_found", `phase '${phase.name}' of plan '${plan.name}' has no step '${abbreviate(target.step)}'`);
  return { phase, step };
}

/** Applies the action to the plan (changed in place). */
export function applyPlanControl(
  plan: Plan,
  action: PlanControlAction,
  target: ControlTarget,
  parameters: Readonly<Record<string, string>> = {},
): ControlOutcome {
  const { phase, step } = resolveTarget(plan, target);
  const steps = step ? [step] : phase ? phase.steps : allSteps(plan);
  switch (action) {
    case "START":
      return start(plan, parameters);
    case "STOP": {
      const interrupted = interrupt(plan, phase, step);
      const reset = steps.filter((s) => resetStep(s, "stopped by the operator"));
      return { changed: interrupted || reset.length > 0, reset };
    }
    case "INTERRUPT":
      return { changed: interrupt(plan, phase, step), reset: [] };
    case "CONTINUE":
      return { changed: proceed(plan, phase, step), reset: [] };
    case "FORCE_COMPLETE":
      return { changed: steps.filter((s) => forceComplete(s, plan)).length > 0, reset: [] };
    case "RESTART": {
      const reset = steps.filter((s) => resetStep(s));
      return { changed: reset.length > 0, reset };
    }
  }
}

function start(plan: Plan, parameters: Readonly<Record<string, string>>): ControlOutcome {
  const complete = allSteps(plan).every((s) => s.status === "COMPLETE");
  const reset = complete ? allSteps(plan).filter((s) => resetStep(s)) : [];
  const wasInterrupted = plan.interrupted;
  plan.interrupted = false;
  const sameParameters = sameRecord(plan.parameters ?? {}, parameters);
  setParameters(plan, parameters);
  return { changed: reset.length > 0 || wasInterrupted || !sameParameters, reset };
}

/** The plan's parameters, copied onto its steps (a launch reads its step's). */
export function setParameters(plan: Plan, parameters: Readonly<Record<string, string>>): void {
  const given = Object.keys(parameters).length > 0 ? { ...parameters } : undefined;
  if (given) plan.parameters = given;
  else delete plan.parameters;
  for (const s of allSteps(plan)) {
    if (given) s.parameters = given;
    else delete s.parameters;
  }
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

function interrupt(plan: Plan, phase: Phase | undefined, step: Step | undefined): boolean {
  const element: { interrupted?: boolean } = step ?? phase ?? plan;
  if (element.interrupted === true) return false;
  element.interrupted = true;
  return true;
}

function proceed(plan: Plan, phase: Phase | undefined, step: Step | undefined): boolean {
  if (step) {
    if (!step.interrupted) return false;
    step.interrupted = false;
    if (phase?.canary?.includes(step.name)) phase.canary = phase.canary.filter((n) => n !== step.name);
    return true;
  }
  if (phase) return proceedPhase(phase);
  if (plan.interrupted) {
    plan.interrupted = false;
    return true;
  }
  return activePhases(plan).filter(proceedPhase).length > 0;
}

/** Un-interrupts the phase, or releases its next canary step. */
function proceedPhase(phase: Phase): boolean {
  if (phase.interrupted === true) {
    phase.interrupted = false;
    return true;
  }
  const [next, ...rest] = phase.canary ?? [];
  if (next === undefined) return false;
  phase.canary = rest;
  const released = phase.steps.find((s) => s.name === next);
  if (released) released.interrupted = false;
  return true;
}

function forceComplete(step: Step, plan: Plan): boolean {
  if (step.status === "COMPLETE") return false;
  markComplete(step, "force-completed by the operator");
  step.forced = true;
  step.interrupted = false;
  for (const ph of plan.phases) if (ph.canary?.includes(step.name) && ph.steps.includes(step)) ph.canary = ph.canary.filter((n) => n !== step.name);
  return true;
}

/**
 * Back to PENDING: the step forgets the tasks it launched (their late statuses no longer move
 * it) and remembers them as discarded, so a scheduler restart does not complete it from them.
 */
function resetStep(step: Step, message = "restarted by the operator"): boolean {
  if (step.status === "PENDING") return false;
  if (step.taskIds.size > 0) step.discarded = [...step.taskIds.values()];
  step.taskIds.clear();
  step.progress.clear();
  step.status = "PENDING";
  delete step.forced;
  setStepMessage(step, message);
  return true;
}
