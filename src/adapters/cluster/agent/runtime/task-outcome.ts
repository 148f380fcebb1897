/**
 * What an ended task is reported as, from how it ended: the command's exit status when the
 * wrapper recorded it (or exited with it), or unknown when the wrapper itself was killed or the
 * task ended while no agent watched and left no status (Mesos: the executor terminated).
 */
import type { TaskState } from "../../../../domain/cluster.js";
import type { Extra } from "../../sim-tasks.js";

export interface EndedTask {
  readonly killRequested: boolean;
  readonly healthKilled: boolean;
  readonly healthFailures: number;
}

/** The command's exit status (above 128: killed by signal status − 128), or why it is unknown. */
export type Ending = { readonly status: number } | { readonly unknown: string };

export const UNKNOWN_AWAY = "the task ended while the agent was away and left no exit status; its exit code is unknown";
export const UNKNOWN_WRAPPER = "the task's wrapper was killed; its exit code is unknown";

/** `oomMemMb`: the kernel killed the command for going over its memory limit (this many MB). */
export function outcome(t: EndedTask, ending: Ending, oomMemMb?: number): { readonly state: TaskState; readonly extra: Extra } {
  if (t.healthKilled) {
    return {
      state: "TASK_KILLED",
      extra: { healthy: false, reason: "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", message: `health check failed ${t.healthFailures} times in a row` },
    };
  }
  if (t.killRequested) return { state: "TASK_KILLED", extra: { message: "killed by the scheduler" } };
  if (oomMemMb !== undefined) {
    return { state: "TASK_FAILED", extra: { reason: "REASON_CONTAINER_LIMITATION_MEMORY", message: `the task went over its memory limit of ${oomMemMb} MB and was killed` } };
  }
  if ("unknown" in ending) return { state: "TASK_FAILED", extra: { reason: "REASON_EXECUTOR_TERMINATED", message: ending.unknown } };
  if (ending.status === 0) return { state: "TASK_FINISHED", extra: { message: "command exited with status 0" } };
  const how = ending.status > 128 ? ` (terminated by signal ${ending.status - 128})` : "";
  return { state: "TASK_FAILED", extra: { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: `command exited with status ${ending.status}${how}` } };
}
