/**
 * A service's plans (dcos-commons §1.8, §1.12): `deploy` (or the spec's `update` plan in its
 * place, for a change after a completed deployment), the custom plans, `recovery`, and
 * `decommission` while pod instances the spec no longer has are being taken down. Built from
 * the spec and resumed from the task records, so a restarted scheduler or a reconfigured
 * service starts every step where its tasks are.
 */
import { LABEL_RESOURCE_ID } from "../cluster.js";
import { reservationLabels } from "../offer/pool.js";
import { LABEL_INDEX, LABEL_TASK_TYPE } from "../offer/task-info.js";
import type { NewId } from "../plan/build.js";
import { buildPlans } from "../plan/build.js";
import type { Phase, Plan, Step } from "../plan/model.js";
import { allSteps, newStep } from "../plan/model.js";
import { progressFor, readinessPassed, setStepMessage } from "../plan/step.js";
import { armCanary } from "../plan/strategy.js";
import type { ServiceSpec } from "../spec/types.js";
import { taskInstanceName } from "../task-id.js";
import type { StoredTask, TaskSlot } from "./task-record.js";
import { isPermanentlyFailed, mayBeLive, onConfig, reachedGoal, taskSlots } from "./task-record.js";

export interface ServicePlans {
  /** The plan that deploys the target config: `deploy` (the spec's `update` plan, swapped in). */
  readonly deploy: Plan;
  /** The spec's other plans; they start interrupted. */
  readonly custom: readonly Plan[];
  readonly recovery: Plan;
  /** Pod instances the target no longer has, taken down one after another. */
  readonly decommission?: Plan;
}

export const DECOMMISSION_PLAN = "decommission";

/** Every plan, in the order views list them: deploy, custom, recovery, decommission. */
export function allPlans(p: ServicePlans): Plan[] {
  return [p.deploy, ...p.custom, p.recovery, ...(p.decommission ? [p.decommission] : [])];
}

function cloneStep(s: Step): Step {
  return { ...s, taskIds: new Map(s.taskIds), progress: new Map(s.progress) };
}

/** A copy of the plan's containers; of its steps, those in `only` (all without it). */
function clonePlan(plan: Plan, only?: ReadonlySet<string>): Plan {
  return {
    ...plan,
    errors: [...plan.errors],
    phases: plan.phases.map((ph): Phase => ({ ...ph, steps: ph.steps.map((s) => (only === undefined || only.has(s.id) ? cloneStep(s) : s)) })),
  };
}

/**
 * A copy to change. `only`: the steps that will change (the decisions touch candidate steps
 * alone); the others are shared. The decommission plan is always copied whole.
 */
export function clonePlans(p: ServicePlans, only?: ReadonlySet<string>): ServicePlans {
  return {
    deploy: clonePlan(p.deploy, only),
    custom: p.custom.map((c) => clonePlan(c, only)),
    recovery: clonePlan(p.recovery, only),
    ...(p.decommission ? { decommission: clonePlan(p.decommission) } : {}),
  };
}

function emptyRecoveryPlan(): Plan {
  return { name: "recovery", strategy: "parallel", phases: [], errors: [], interrupted: false };
}

export interface PlanOptions {
  /** A deployment completed before: the spec's `update` plan, if any, deploys this config. */
  readonly update: boolean;
}

/** The plans of a service on `configId`, every step resumed from the task records. */
export function buildServicePlans(
  spec: ServiceSpec,
  configId: string,
  tasks: ReadonlyMap<string, StoredTask>,
  newId: NewId,
  options: PlanOptions = { update: false },
): ServicePlans {
  const built = buildPlans(spec, newId);
  const update = options.update ? built.find((p) => p.name === "update") : undefined;
  const deploy: Plan = update ? { ...update, name: "deploy", interrupted: false } : built[0]!;
  const custom = built.slice(1).filter((p) => p !== update);
  return resumePlans({ deploy, custom, recovery: emptyRecoveryPlan() }, spec, configId, tasks, newId);
}

/**
 * Every deploy and custom step resumed from the task records (changing the plans given), canary
 * phases armed on the steps still pending, and the decommission plan for records the spec has
 * no slot for.
 */
export function resumePlans(
  plans: ServicePlans,
  spec: ServiceSpec,
  configId: string,
  tasks: ReadonlyMap<string, StoredTask>,
  newId: NewId,
): ServicePlans {
  const slots = taskSlots(spec);
  for (const step of [plans.deploy, ...plans.custom].flatMap(allSteps)) resumeStep(step, slots, tasks, configId);
  // A canary waits on the steps still pending once the records are read.
  for (const phase of [plans.deploy, ...plans.custom].flatMap((p) => p.phases)) armCanary(phase);
  const decommission = decommissionPlan(tasks, slots, newId);
  return { deploy: plans.deploy, custom: plans.custom, recovery: plans.recovery, ...(decommission ? { decommission } : {}) };
}

/**
 * A step starts COMPLETE when every task of it reached its goal on the target config; a task
 * on another config is to be relaunched, so the step does not follow it (its statuses, its kill).
 */
function resumeStep(step: Step, slots: ReadonlyMap<string, TaskSlot>, tasks: ReadonlyMap<string, StoredTask>, configId: string): void {
  if (step.status === "ERROR") return;
  let allAtGoal = true;
  for (const name of step.tasks) {
    const instance = taskInstanceName(step.podType, step.podIndex, name);
    const stored = tasks.get(instance);
    const slot = slots.get(instance);
    if (!stored || !slot) {
      allAtGoal = false;
      continue;
    }
    // A pod being replaced is the recovery plan's (the reference counts it at its goal).
    if (isPermanentlyFailed(stored)) continue;
    if (!reachedGoal(stored, slot.task, configId)) allAtGoal = false;
    if (slot.task.goal !== "ONCE" && !onConfig(stored, configId)) continue;
    step.taskIds.set(name, stored.info.taskId);
    const st = stored.status;
    const ready = st ? readinessPassed(st, slot.task.readinessCheck !== undefined) : false;
    step.progress.set(name, st ? progressFor(st.state, slot.task.goal, ready) : "STARTING");
  }
  if (allAtGoal) {
    for (const name of step.tasks) step.progress.set(name, "COMPLETE");
    step.status = "COMPLETE";
  } else if (step.tasks.some((n) => step.progress.get(n) === "STARTING" || step.progress.get(n) === "STARTED")) {
    step.status = "STARTING";
  }
}

/** `kill-<task>`, `unreserve-<resource id>`, `erase-<task>` (the reference's step names). */
export const decommissionStepName = {
  kill: (task: string): string => `kill-${task}`,
  unreserve: (resourceId: string): string => `unreserve-${resourceId}`,
  erase: (task: string): string => `erase-${task}`,
};

/** Reservation ids a confirmed task record holds. */
export function heldResourceIds(stored: StoredTask): string[] {
  // A permanently failed record holds nothing: its reservations are garbage (its agent may be gone).
  if (!stored.confirmed || isPermanentlyFailed(stored)) return [];
  const ids = stored.info.resources.map((r) => reservationLabels(r)?.[LABEL_RESOURCE_ID]);
  return [...new Set(ids.filter((id): id is string => id !== undefined))];
}

/**
 * Stored tasks the spec has no slot for (a pod removed, a count shrunk): one serial phase per
 * pod instance, highest index first — kill its tasks, release its reservations (volumes
 * destroyed, then unreserved), erase its task records.
 */
function decommissionPlan(tasks: ReadonlyMap<string, StoredTask>, slots: ReadonlyMap<string, unknown>, newId: NewId): Plan | undefined {
  const byPod = new Map<string, { type: string; index: number; tasks: [string, StoredTask][] }>();
  for (const [name, stored] of tasks) {
    if (slots.has(name)) continue;
    const type = stored.info.labels[LABEL_TASK_TYPE] ?? name;
    const index = Number(stored.info.labels[LABEL_INDEX] ?? 0);
    const key = `${type}-${index}`;
    const pod = byPod.get(key) ?? { type, index, tasks: [] };
    pod.tasks.push([name, stored]);
    byPod.set(key, pod);
  }
  if (byPod.size === 0) return undefined;
  // A reservation a task the spec keeps still holds (a resource set shared with it) stays.
  const kept = new Set([...tasks].filter(([name]) => slots.has(name)).flatMap(([, t]) => heldResourceIds(t)));
  const pods = [...byPod.entries()].sort(([ka, a], [kb, b]) => (a.type === b.type ? b.index - a.index : ka < kb ? -1 : 1));
  const phases = pods.map(([key, pod]): Phase => {
    const sorted = pod.tasks.sort(([a], [b]) => (a < b ? -1 : 1));
    const step = (name: string, done: boolean): Step => {
      const s = newStep(newId(), name, pod.type, pod.index, []);
      if (done) s.status = "COMPLETE";
      return s;
    };
    const ids = [...new Set(sorted.flatMap(([, t]) => heldResourceIds(t)))].filter((id) => !kept.has(id)).sort();
    return {
      id: newId(),
      name: key,
      strategy: "serial",
      steps: [
        ...sorted.map(([name, t]) => step(decommissionStepName.kill(name), !mayBeLive(t))),
        ...ids.map((id) => step(decommissionStepName.unreserve(id), false)),
        ...sorted.map(([name]) => step(decommissionStepName.erase(name), false)),
      ],
    };
  });
  return { name: DECOMMISSION_PLAN, strategy: "serial", phases, errors: [], interrupted: false };
}

/** The step of any plan with this id. */
export function findStep(plans: ServicePlans, id: string): Step | undefined {
  for (const plan of allPlans(plans)) for (const ph of plan.phases) for (const s of ph.steps) if (s.id === id) return s;
  return undefined;
}

/** The cluster refused the launch of these steps: they go back to PENDING, saying why (retried later). */
export function launchRefused(plans: ServicePlans, stepIds: readonly string[], reason: string): void {
  for (const id of stepIds) {
    const step = findStep(plans, id);
    if (!step || step.status === "COMPLETE") continue;
    for (const t of step.tasks) step.progress.set(t, "PENDING");
    step.status = "PENDING";
    setStepMessage(step, `the cluster refused the launch: ${reason}`);
  }
}

/** A service's part of an offer cycle threw: the steps waiting for offers show it until a cycle succeeds. */
export function cycleFailedOn(plans: ServicePlans, error: string): void {
  for (const plan of [plans.deploy, plans.recovery]) {
    for (const step of plan.phases.flatMap((ph) => ph.steps)) {
      if (step.status === "PENDING" || step.status === "PREPARED") setStepMessage(step, `offer cycle failed: ${error}`);
    }
  }
}
