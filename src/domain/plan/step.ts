/**
 * Step transitions (dcos-commons §1.12 "DeploymentStep"). A step's status is the least
 * advanced of its tasks' progress: ERROR > PENDING > STARTING > STARTED > COMPLETE.
 */
import type { TaskState, TaskStatus } from "../cluster.js";
import type { GoalState } from "../spec/types.js";
import type { Step, TaskProgress } from "./model.js";

const ORDER: readonly TaskProgress[] = ["ERROR", "PENDING", "STARTING", "STARTED", "COMPLETE"];

function recompute(step: Step): TaskProgress {
  let least: TaskProgress = "COMPLETE";
  for (const name of step.tasks) {
    const p = step.progress.get(name) ?? "PENDING";
    if (ORDER.indexOf(p) < ORDER.indexOf(least)) least = p;
  }
  step.status = least;
  return least;
}

/**
 * Sets what the step says about itself. A recovery step keeps its attempt, its kind and the
 * failure behind it in front (`attempt 3 (transient): task hello-0-server failed: …; waiting
 * for offers`), so the reason stays visible through every later transition.
 */
export function setStepMessage(step: Step, detail: string): void {
  const note = step.recovery;
  if (!note) {
    step.message = detail;
    return;
  }
  const head = `attempt ${note.attempt} (${note.permanent === true ? "permanent" : "transient"}): ${note.why}`;
  step.message = detail === "" ? head : `${head}; ${detail}`;
}

/** No offer matched this round: the step waits for the next one. */
export function markPrepared(step: Step, reason: string): void {
  if (step.status === "PENDING") step.status = "PREPARED";
  setStepMessage(step, reason);
}

/** The step's tasks were handed to the cluster with these IDs (task spec name → task ID). */
export function markLaunched(step: Step, taskIds: ReadonlyMap<string, string>): void {
  for (const [name, id] of taskIds) {
    step.taskIds.set(name, id);
    step.progress.set(name, "STARTING");
  }
  setStepMessage(step, step.recovery ? "relaunched" : "");
  recompute(step);
}

export function markComplete(step: Step, message = ""): void {
  for (const name of step.tasks) step.progress.set(name, "COMPLETE");
  step.status = "COMPLETE";
  setStepMessage(step, message);
}

/** Whether a RUNNING update means the task is ready (no readiness check ⇒ ready). */
export function readinessPassed(status: TaskStatus, hasReadinessCheck: boolean): boolean {
  if (!hasReadinessCheck) return true;
  if (status.checkStatus?.exitCode === 0) return true;
  return status.labels?.["readiness_check_passed"] === "true";
}

export function progressFor(
  state: TaskState,
  goal: GoalState,
  ready: boolean,
): TaskProgress {
  switch (state) {
    case "TASK_STAGING":
    case "TASK_STARTING":
      return "STARTING";
    case "TASK_RUNNING":
      return goal === "RUNNING" && ready ? "COMPLETE" : "STARTED";
    case "TASK_FINISHED":
      // A RUNNING-goal task that exits is relaunched; FINISH/ONCE tasks are done.
      return goal === "RUNNING" ? "PENDING" : "COMPLETE";
    case "TASK_KILLING":
      return "STARTED";
    default:
      // Failed, killed, lost, dropped…: back to PENDING so the step relaunches.
      return "PENDING";
  }
}

/**
 * Applies a status of one of the step's tasks. Statuses of task IDs the step did not launch
 * last, and any status after COMPLETE, are ignored. Returns whether anything changed.
 */
export function applyTaskStatus(
  step: Step,
  taskName: string,
  status: TaskStatus,
  goal: GoalState,
  hasReadinessCheck: boolean,
): boolean {
  if (step.status === "COMPLETE") return false;
  if (step.taskIds.get(taskName) !== status.taskId) return false;
  const next = progressFor(status.state, goal, readinessPassed(status, hasReadinessCheck));
  const before = step.status;
  step.progress.set(taskName, next);
  if (next === "PENDING" && status.message !== undefined) setStepMessage(step, status.message);
  if (recompute(step) === "COMPLETE" && step.recovery) setStepMessage(step, "recovered");
  return step.status !== before;
}
