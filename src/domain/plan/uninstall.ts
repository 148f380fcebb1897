/**
 * The uninstall plan of a service being removed (dcos-commons §3.7): kill every task, then
 * release every reservation the service holds (DESTROY its volumes, UNRESERVE the rest), then
 * deregister. Phases run in order; the steps of a phase in parallel. Step names follow the
 * reference: `kill-task-<task id>`, `unreserve-<resource id>`, `deregister-service`.
 */
import type { Plan, Step } from "./model.js";
import { newStep } from "./model.js";

export const KILL_PHASE = "kill-tasks";
export const UNRESERVE_PHASE = "unreserve-resources";
export const DEREGISTER_PHASE = "deregister-service";

export interface TaskToKill {
  readonly taskId: string;
  /** Already terminal: its step starts COMPLETE. */
  readonly dead: boolean;
}

export interface ReservationToRelease {
  readonly resourceId: string;
  /** Released before the removal was interrupted (a restart): its step starts COMPLETE. */
  readonly released: boolean;
}

function step(id: string, name: string, complete: boolean): Step {
  const s = newStep(id, name, "", 0, []);
  if (complete) s.status = "COMPLETE";
  return s;
}

export function buildUninstallPlan(
  tasks: readonly TaskToKill[],
  reservations: readonly ReservationToRelease[],
  newId: () => string,
): Plan {
  return {
    name: "uninstall",
    strategy: "serial",
    errors: [],
    interrupted: false,
    phases: [
      { id: newId(), name: KILL_PHASE, strategy: "parallel", steps: tasks.map((t) => step(newId(), `kill-task-${t.taskId}`, t.dead)) },
      {
        id: newId(),
        name: UNRESERVE_PHASE,
        strategy: "parallel",
        steps: reservations.map((r) => step(newId(), `unreserve-${r.resourceId}`, r.released)),
      },
      { id: newId(), name: DEREGISTER_PHASE, strategy: "serial", steps: [step(newId(), "deregister-service", false)] },
    ],
  };
}

function phase(plan: Plan, name: string): Step[] {
  return plan.phases.find((p) => p.name === name)?.steps ?? [];
}

/** Marks a task's kill step: COMPLETE once it is dead, STARTED while the kill is in flight. */
export function markKill(plan: Plan, taskId: string, dead: boolean): boolean {
  const s = phase(plan, KILL_PHASE).find((x) => x.name === `kill-task-${taskId}`);
  if (!s || s.status === "COMPLETE") return false;
  s.status = dead ? "COMPLETE" : "STARTED";
  s.message = dead ? "" : "kill sent";
  return true;
}

export function killsDone(plan: Plan): boolean {
  return phase(plan, KILL_PHASE).every((s) => s.status === "COMPLETE");
}

export function markReleased(plan: Plan, resourceId: string): boolean {
  const s = phase(plan, UNRESERVE_PHASE).find((x) => x.name === `unreserve-${resourceId}`);
  if (!s || s.status === "COMPLETE") return false;
  s.status = "COMPLETE";
  return true;
}

export function releasesDone(plan: Plan): boolean {
  return phase(plan, UNRESERVE_PHASE).every((s) => s.status === "COMPLETE");
}

export function markDeregistered(plan: Plan): void {
  for (const s of phase(plan, DEREGISTER_PHASE)) s.status = "COMPLETE";
}

/** Steps done and in all, for PROGRESS events. */
export function uninstallProgress(plan: Plan): { readonly complete: number; readonly total: number } {
  const steps = plan.phases.flatMap((p) => p.steps);
  return { complete: steps.filter((s) => s.status === "COMPLETE").length, total: steps.length };
}

/** What is still there: the kill and unreserve steps not complete (for a FORCED event). */
export function uninstallLeftovers(plan: Plan): string[] {
  return [...phase(plan, KILL_PHASE), ...phase(plan, UNRESERVE_PHASE)]
    .filter((s) => s.status !== "COMPLETE")
    .map((s) => s.name.replace(/^kill-task-/, "task ").replace(/^unreserve-/, "reservation "));
}
