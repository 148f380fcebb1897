/**
 * One task's start: its user, its sandbox, the wrapper's spawn and task.json, in that order.
 * Nothing here reports; the runtime turns a failure into the task's TASK_FAILED.
 */
import type { ChildProcess } from "node:child_process";
import { LABEL_NAMESPACE } from "../../../../domain/cluster.js";
import type { TaskInfo } from "../../../../domain/cluster.js";
import { reservationLabels } from "../../../../domain/offer/pool.js";
import type { Extra } from "../../sim-tasks.js";
import { signalGroup } from "./proc.js";
import { lookupUser, prepareSandbox, taskEnvironment } from "./sandbox.js";
import type { Account } from "./sandbox.js";
import { crashPoint } from "../../test-crash.js";
import { spawnWrapped, writeRecord } from "./wrapper.js";
import type { TaskRecord } from "./wrapper.js";

export interface LaunchContext {
  readonly root: string;
  readonly frameworkId: string;
  readonly taskPath: string;
  readonly canSwitchUser: boolean;
}

export type Launch =
  | {
      readonly kind: "started";
      readonly child: ChildProcess;
      readonly record: TaskRecord;
      readonly sandbox: string;
      readonly env: Readonly<Record<string, string>>;
      readonly account: Account | undefined;
    }
  /** The spawn failed; the child's 'error' event says why. */
  | { readonly kind: "spawn-failed"; readonly child: ChildProcess }
  | { readonly kind: "failed"; readonly extra: Extra };

export function launchTask(info: TaskInfo, c: LaunchContext): Launch {
  const user = info.command.user;
  let account: Account | undefined;
  if (user && c.canSwitchUser) {
    account = taskAccount(user);
    if (!account) return { kind: "failed", extra: { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: `user '${user}' does not exist on this machine` } };
  }
  let sandbox: string;
  let env: Record<string, string>;
  let child: ChildProcess;
  try {
    sandbox = prepareSandbox(c.root, info, account);
    env = taskEnvironment(info, sandbox, c.frameworkId, c.taskPath);
    child = spawnWrapped({ command: info.command.value, sandbox, env, account });
  } catch (err) {
    return { kind: "failed", extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: `sandbox: ${(err as Error).message}` } };
  }
  const pid = child.pid;
  if (pid === undefined) return { kind: "spawn-failed", child };
  child.unref();
  crashPoint("during-launch", [info.taskId]);
  try {
    return { kind: "started", child, record: writeRecord(sandbox, pid, namespacesOf(info)), sandbox, env, account };
  } catch (err) {
    // Unrecorded, a restarted agent would start it a second time: it does not run at all.
    signalGroup(pid, "SIGKILL");
    return { kind: "failed", extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message: `sandbox: ${(err as Error).message}` } };
  }
}

/** The account a task runs as; undefined when there is no such user here. */
export function taskAccount(user: string): Account | undefined {
  try {
    return lookupUser(user);
  } catch {
    return undefined; // no /etc/passwd: no such user here
  }
}

/** Whose reservations the task runs on: its sandbox goes once they are released. */
export function namespacesOf(info: TaskInfo): string[] {
  return [...new Set(info.resources.flatMap((r) => reservationLabels(r)?.[LABEL_NAMESPACE] ?? []))];
}
