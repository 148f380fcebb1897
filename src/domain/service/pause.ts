/**
 * Paused pods (the reference's `pod pause`, §1.10): a paused pod instance's tasks are launched
 * with an idle command in place of theirs and without health or readiness checks, on the same
 * reservations and volumes, so an operator can look inside or repair its data; resumed, they are
 * launched with their own command again.
 */
import type { TaskSpec } from "../spec/types.js";

/** What a paused task runs: nothing, until it is killed (about 68 years). */
export const IDLE_COMMAND = "sleep 2147483647";

/** The task as a paused pod launches it. */
export function pausedTask(task: TaskSpec): TaskSpec {
  const { healthCheck: _health, readinessCheck: _readiness, ...rest } = task;
  return { ...rest, cmd: IDLE_COMMAND };
}
