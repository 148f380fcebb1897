/**
 * Builds a service's plans from its spec. Without `plans:` the deploy plan is generated as the
 * reference does: one serial phase per pod in spec order, one step per pod instance launching
 * all of its tasks. Plans other than `deploy` start interrupted (manual plans); a canary phase's
 * first two steps wait for the operator's `continue`.
 */
import type { PhaseSpec, PodSpec, ServiceSpec } from "../spec/types.js";
import { stepName } from "../task-id.js";
import type { Phase, Plan, Step } from "./model.js";
import { newStep } from "./model.js";
import { armCanary } from "./strategy.js";

export type NewId = () => string;

function stepGroups(phase: PhaseSpec, pod: PodSpec, index: number): readonly (readonly string[])[] {
  if (!phase.steps) return [pod.tasks.map((t) => t.name)];
  return phase.steps.get(index) ?? phase.steps.get("default") ?? [];
}

/** Tasks sharing a resource set cannot launch together (reference: the step is invalid). */
function sharedResourceSet(pod: PodSpec, group: readonly string[]): string | undefined {
  const sets = group.map((t) => pod.tasks.find((x) => x.name === t)?.resourceSetId);
  return sets.find((s, i) => s !== undefined && sets.indexOf(s) !== i);
}

function buildPhase(phase: PhaseSpec, pod: PodSpec, newId: NewId): Phase {
  const steps: Step[] = [];
  for (let index = 0; index < pod.count; index++) {
    for (const group of stepGroups(phase, pod, index)) {
      const step = newStep(newId(), stepName(pod.type, index, group), pod.type, index, group);
      const shared = sharedResourceSet(pod, group);
      if (shared !== undefined) {
        step.status = "ERROR";
        step.message = `tasks ${group.join(", ")} share resource set '${shared}' and cannot launch in one step`;
      }
      steps.push(step);
    }
  }
  const built: Phase = { id: newId(), name: phase.name, strategy: phase.strategy, steps };
  armCanary(built);
  return built;
}

function defaultDeploySpec(spec: ServiceSpec): { strategy: "serial"; phases: PhaseSpec[] } {
  return {
    strategy: "serial",
    phases: spec.pods.map((pod) => ({ name: pod.type, pod: pod.type, strategy: "serial" })),
  };
}

/** All plans of the service, `deploy` first. */
export function buildPlans(spec: ServiceSpec, newId: NewId): Plan[] {
  const pods = new Map(spec.pods.map((p) => [p.type, p]));
  const specs = spec.plans.some((p) => p.name === "deploy")
    ? spec.plans
    : [{ name: "deploy", ...defaultDeploySpec(spec) }, ...spec.plans];
  const ordered = [...specs].sort((a, b) => Number(b.name === "deploy") - Number(a.name === "deploy"));
  return ordered.map((planSpec) => ({
    name: planSpec.name,
    strategy: planSpec.strategy,
    errors: [],
    interrupted: planSpec.name !== "deploy",
    phases: planSpec.phases.flatMap((ph) => {
      const pod = pods.get(ph.pod);
      return pod ? [buildPhase(ph, pod, newId)] : [];
    }),
  }));
}
