/**
 * Why a task ended, in words, from its last TaskStatus (state, reason, message): the text a
 * recovery step and its log line show, e.g. `task hello-0-server failed: command exited with
 * status 1` or `task hello-0-server was killed (failed health check): health check failed 3
 * times in a row`. The message is the cluster's own (the local cluster and the simulated one
 * put the exit status, signal or check result there); it is quoted, never parsed.
 */
import type { TaskState, TaskStatus } from "../cluster.js";
import { abbreviate } from "../errors.js";

/** Longest status message quoted; a sandbox error can carry a long path or stack. */
export const TASK_END_MESSAGE_MAX_CHARS = 200;

const STATE_WORDS: Readonly<Record<TaskState, string>> = {
  TASK_STAGING: "is staging",
  TASK_STARTING: "is starting",
  TASK_RUNNING: "is running",
  TASK_KILLING: "is being killed",
  TASK_FINISHED: "exited although its goal is RUNNING",
  TASK_FAILED: "failed",
  TASK_KILLED: "was killed",
  TASK_ERROR: "could not be launched",
  TASK_LOST: "was lost",
  TASK_DROPPED: "was dropped",
  TASK_UNREACHABLE: "is unreachable",
  TASK_GONE: "is gone",
  TASK_GONE_BY_OPERATOR: "was marked gone by the operator",
  TASK_UNKNOWN: "is unknown to the cluster",
};

/**
 * Mesos reasons (mesos-v1-api.md, TaskStatus.Reason) in words. An empty entry adds nothing to
 * the state's words (the executor failing is what "failed" already says).
 */
const REASON_WORDS: Readonly<Record<string, string>> = {
  REASON_COMMAND_EXECUTOR_FAILED: "",
  REASON_TASK_HEALTH_CHECK_STATUS_UPDATED: "failed health check",
  REASON_TASK_CHECK_STATUS_UPDATED: "check failed",
  REASON_AGENT_REMOVED: "agent lost",
  REASON_AGENT_DISCONNECTED: "agent disconnected",
  REASON_AGENT_RESTARTED: "agent restarted",
  REASON_AGENT_UNKNOWN: "agent unknown",
  REASON_EXECUTOR_TERMINATED: "executor terminated",
  REASON_CONTAINER_LAUNCH_FAILED: "container launch failed",
  REASON_CONTAINER_LIMITATION_MEMORY: "out of memory",
  REASON_CONTAINER_LIMITATION_DISK: "disk limit exceeded",
  REASON_CONTAINER_PREEMPTED: "preempted",
  REASON_TASK_KILLED_DURING_LAUNCH: "killed during launch",
  REASON_RECONCILIATION: "reconciliation",
  REASON_INVALID_OFFERS: "invalid offers",
  REASON_TASK_GROUP_INVALID: "invalid task group",
};

function reasonWords(status: TaskStatus): string {
  const reason = status.reason;
  if (reason === undefined || reason === "") return status.healthy === false ? "failed health check" : "";
  return REASON_WORDS[reason] ?? reason.replace(/^REASON_/, "").toLowerCase().replaceAll("_", " ");
}

/** `task <instance> <what happened> (<reason>): <message>`; reason and message when present. */
export function describeTaskEnd(instance: string, status: TaskStatus): string {
  const reason = reasonWords(status);
  const message = status.message?.trim() ?? "";
  let text = `task ${instance} ${STATE_WORDS[status.state]}`;
  if (reason !== "") text += ` (${reason})`;
  if (message !== "") text += `: ${abbreviate(message, TASK_END_MESSAGE_MAX_CHARS)}`;
  return text;
}
