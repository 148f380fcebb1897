/**
 * One task's start: its user, its secrets, its sandbox (volumes, secret files), its cgroup, the
 * wrapper's spawn, its cgroup and rlimits (a gated wrapper waits for them), and task.json, in
 * that order. Nothing here reports; the runtime turns a failure into the task's TASK_FAILED.
 * Failure messages name secrets, never their values.
 */
import type { ChildProcess } from "node:child_process";
import { LABEL_NAMESPACE, LABEL_RESOURCE_ID } from "../../../../domain/cluster.js";
import type { ExecutorInfo, TaskInfo } from "../../../../domain/cluster.js";
import { reservationLabels } from "../../../../domain/offer/pool.js";
import { tryParseTaskId } from "../../../../domain/task-id.js";
import type { Extra } from "../../sim-tasks.js";
import { attachToCgroup, createTaskCgroup, removeTaskCgroup } from "./cgroups.js";
import { containerVolumes, setUpContainerVolumes } from "./container-volumes.js";
import { signalGroup } from "./proc.js";
import { applyRlimits, prlimitArgs } from "./rlimits.js";
import { secretEnvironment, secretFiles } from "./task-secrets.js";
import { lookupUser, prepareSandbox, taskEnvironment } from "./sandbox.js";
import type { Account } from "./sandbox.js";
import { crashPoint } from "../../test-crash.js";
import { releaseGate, spawnWrapped, writeRecord } from "./wrapper.js";
import type { TaskRecord } from "./wrapper.js";

export interface LaunchContext {
  readonly root: string;
  readonly frameworkId: string;
  readonly taskPath: string;
  readonly canSwitchUser: boolean;
  /** The framework's user (FrameworkInfo.user): a command that names none runs as it. */
  readonly frameworkUser: string | undefined;
  readonly secretsDir: string | undefined;
  /** The executor the task runs in: it holds the pod's volumes. */
  readonly executor: ExecutorInfo | undefined;
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

const launchFailed = (message: string): Launch => ({ kind: "failed", extra: { reason: "REASON_CONTAINER_LAUNCH_FAILED", message } });

export function launchTask(info: TaskInfo, c: LaunchContext): Launch {
  const user = taskUser(info, c.frameworkUser, c.canSwitchUser);
  if ("error" in user) return { kind: "failed", extra: { reason: "REASON_COMMAND_EXECUTOR_FAILED", message: user.error } };
  const { account } = user;
  const secretEnv = secretEnvironment(info, c.secretsDir);
  if ("error" in secretEnv) return launchFailed(secretEnv.error);
  const files = secretFiles(containerVolumes(info), c.secretsDir);
  if ("error" in files) return launchFailed(files.error);
  const limits = prlimitArgs(info.container?.rlimitInfo?.rlimits);
  if ("error" in limits) return launchFailed(limits.error);
  let sandbox: string;
  let env: Record<string, string>;
  let child: ChildProcess;
  let cgroup: string[] | undefined;
  try {
    sandbox = prepareSandbox(c.root, info, account);
    setUpContainerVolumes(c.root, info, c.executor, sandbox, account, files.files);
    env = { ...taskEnvironment(info, sandbox, c.frameworkId, c.taskPath), ...secretEnv.env };
  } catch (err) {
    return launchFailed(`sandbox: ${(err as Error).message}`);
  }
  try {
    cgroup = createTaskCgroup(info);
  } catch (err) {
    removeTaskCgroup(info.taskId, () => {}, 1);
    return launchFailed(`cgroup: ${(err as Error).message}`);
  }
  const gated = cgroup !== undefined || limits.args.length > 0;
  try {
    child = spawnWrapped({ command: info.command.value, sandbox, env, account, gated });
  } catch (err) {
    if (cgroup) removeTaskCgroup(info.taskId, () => {}, 1);
    return launchFailed(`sandbox: ${(err as Error).message}`);
  }
  const pid = child.pid;
  if (pid === undefined) {
    if (cgroup) removeTaskCgroup(info.taskId, () => {}, 1);
    return { kind: "spawn-failed", child };
  }
  child.unref();
  if (gated) {
    // The wrapper waits on its stdin: the command starts inside its cgroup and limits, or not at all.
    try {
      if (cgroup) attachToCgroup(cgroup, pid);
      applyRlimits(pid, limits.args);
      releaseGate(child, true);
    } catch (err) {
      releaseGate(child, false);
      signalGroup(pid, "SIGKILL");
      if (cgroup) removeTaskCgroup(info.taskId, () => {}); // once the killed wrapper is gone
      return launchFailed(`${cgroup ? "cgroup or rlimits" : "rlimits"}: ${(err as Error).message}`);
    }
  }
  crashPoint("during-launch", [info.taskId]);
  try {
    return { kind: "started", child, record: writeRecord(sandbox, pid, namespacesOf(info)), sandbox, env, account };
  } catch (err) {
    // Unrecorded, a restarted agent would start it a second time: it does not run at all.
    signalGroup(pid, "SIGKILL");
    if (cgroup) removeTaskCgroup(info.taskId, () => {});
    return launchFailed(`sandbox: ${(err as Error).message}`);
  }
}

/**
 * Whom the task runs as, as Mesos: its command's user, else its framework's; no account (the
 * agent's own user) when the agent cannot switch users. A user unknown here is an error.
 */
export function taskUser(info: TaskInfo, frameworkUser: string | undefined, canSwitchUser: boolean): { readonly account: Account | undefined } | { readonly error: string } {
  const own = info.command.user || undefined;
  const name = own ?? (frameworkUser || undefined);
  if (!canSwitchUser || name === undefined) return { account: undefined };
  const account = taskAccount(name);
  // The agent's own user needs no switch (no chown, no setuid at spawn): the common case, a root
  // agent and a root framework.
  if (account) return { account: account.uid === process.getuid?.() && account.gid === process.getgid?.() ? undefined : account };
  return { error: own !== undefined ? `user '${name}' does not exist on this machine` : `the framework's user '${name}' does not exist on this machine` };
}

/** The account of a user; undefined when there is no such user here. */
function taskAccount(user: string): Account | undefined {
  try {
    return lookupUser(user);
  } catch {
    return undefined; // no /etc/passwd: no such user here
  }
}

/**
 * Whose reservations the task runs on: its sandbox goes once they are released. A reservation
 * without a namespace label (a mono scheduler's) is its service's, by the sanitized name its
 * task ID carries: the framework host keys such a release by the sanitized framework name,
 * which is that service's (the default service, `reservation-owner.ts`).
 */
export function namespacesOf(info: TaskInfo): string[] {
  const service = tryParseTaskId(info.taskId)?.service;
  return [
    ...new Set(
      info.resources.flatMap((r) => {
        const labels = reservationLabels(r);
        if (labels?.[LABEL_NAMESPACE] !== undefined) return [labels[LABEL_NAMESPACE]];
        return labels?.[LABEL_RESOURCE_ID] !== undefined && service !== undefined ? [service] : [];
      }),
    ),
  ];
}
