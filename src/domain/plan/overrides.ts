/**
 * What the operator's plan control changed, as data that outlives the scheduler process (the
 * reference keeps it in memory only, §7.1 item 10): per plan, whether it is interrupted and its
 * START parameters; per phase, whether it is interrupted and which canary steps still wait; per
 * step, whether it is interrupted, was force-completed, or was restarted (the task IDs it
 * discarded). Elements are named, not identified: ids are new on every build. Captured whole
 * after every control, applied over plans freshly built and resumed from the task records.
 */
import type { Phase, Plan, Step } from "./model.js";
import { setParameters } from "./control.js";
import { markComplete } from "./step.js";
import { isCanaryStrategy } from "./strategy.js";

export interface StepOverride {
  readonly step: string;
  readonly interrupted?: boolean;
  readonly forced?: boolean;
  readonly discarded?: readonly string[];
}

export interface PhaseOverride {
  readonly phase: string;
  readonly interrupted?: boolean;
  /** Canary phases: the steps still waiting for `continue` (empty: all released). */
  readonly canary?: readonly string[];
  readonly steps: readonly StepOverride[];
}

export interface PlanOverride {
  readonly plan: string;
  readonly interrupted: boolean;
  readonly parameters?: Readonly<Record<string, string>>;
  readonly phases: readonly PhaseOverride[];
}

/** Every plan's overrides, for the config they were given on. */
export interface PlanOverrides {
  readonly configId: string;
  readonly plans: readonly PlanOverride[];
}

function captureStep(s: Step): StepOverride | undefined {
  if (!s.interrupted && !s.forced && !s.discarded) return undefined;
  return { step: s.name, ...(s.interrupted ? { interrupted: true } : {}), ...(s.forced ? { forced: true } : {}), ...(s.discarded ? { discarded: s.discarded } : {}) };
}

function capturePhase(ph: Phase): PhaseOverride | undefined {
  const steps = ph.steps.map(captureStep).filter((s): s is StepOverride => s !== undefined);
  if (!ph.interrupted && ph.canary === undefined && steps.length === 0) return undefined;
  return { phase: ph.name, ...(ph.interrupted ? { interrupted: true } : {}), ...(ph.canary ? { canary: ph.canary } : {}), steps };
}

export function captureOverrides(plans: readonly Plan[], configId: string): PlanOverrides {
  return {
    configId,
    plans: plans.map((p) => ({
      plan: p.name,
      interrupted: p.interrupted,
      ...(p.parameters ? { parameters: p.parameters } : {}),
      phases: p.phases.map(capturePhase).filter((ph): ph is PhaseOverride => ph !== undefined),
    })),
  };
}

/**
 * Applies a plan's overrides (changing the plan given). `recordTaskId(step, task)`: the task ID
 * of the task's current record. A restarted step stays PENDING while every record is still one
 * it discarded; once one of its tasks was relaunched, the records say where it is.
 */
export function applyOverride(plan: Plan, o: PlanOverride, recordTaskId: (step: Step, task: string) => string | undefined): void {
  plan.interrupted = o.interrupted;
  setParameters(plan, o.parameters ?? {});
  const phases = new Map(o.phases.map((ph) => [ph.phase, ph]));
  for (const phase of plan.phases) {
    const po = phases.get(phase.name);
    if (po?.interrupted) phase.interrupted = true;
    else delete phase.interrupted;
    if (isCanaryStrategy(phase.strategy) && po?.canary) phase.canary = po.canary.filter((n) => phase.steps.some((s) => s.name === n));
    const steps = new Map((po?.steps ?? []).map((s) => [s.step, s]));
    for (const step of phase.steps) applyStep(step, steps.get(step.name), recordTaskId);
  }
}

function applyStep(step: Step, so: StepOverride | undefined, recordTaskId: (step: Step, task: string) => string | undefined): void {
  step.interrupted = so?.interrupted === true;
  if (so?.forced && step.status !== "COMPLETE") markComplete(step, "force-completed by the operator");
  if (so?.forced) step.forced = true;
  const discarded = new Set(so?.discarded ?? []);
  if (discarded.size === 0) return;
  const stale = step.tasks.every((t) => {
    const id = recordTaskId(step, t);
    return id === undefined || discarded.has(id);
  });
  if (!stale) return;
  step.discarded = [...discarded];
  step.taskIds.clear();
  step.progress.clear();
  step.status = "PENDING";
  step.message = "reset by the operator";
}
