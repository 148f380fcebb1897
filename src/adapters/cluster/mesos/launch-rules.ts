/**
 * What Mesos refuses in a LAUNCH_GROUP, on the domain types, so the local agent and the
 * simulated master refuse the same: `groupProblem` is the master's validation (TASK_ERROR,
 * REASON_TASK_GROUP_INVALID; master/validation.cpp, common/validation.cpp), `launchProblem` what
 * the agent's isolators fail at launch (TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED). Each rule
 * names where Mesos has it. Pure.
 */
import { isDeepStrictEqual } from "node:util";
import type { ExecutorInfo, Resource, TaskInfo } from "../../../domain/cluster.js";
import { RLIMIT_TYPES, type ContainerWire } from "./json-codec-container.js";

/**
 * The master's checks of one task group. `wires` (same order as `tasks`) are the wire-only
 * container settings, known when the group was decoded from JSON.
 */
/**
 * common/validation.cpp validateID, for task and executor IDs: they name directories on the
 * agent (sandboxes, cgroups), so they may not be empty, longer than NAME_MAX, `.` or `..`, or
 * hold a path separator or a control character.
 */
export function idProblem(id: string): string | undefined {
  if (id.length === 0) return "ID must not be empty";
  if (id.length > 255) return "ID must not be greater than 255 characters";
  if (id === "." || id === "..") return `'${id}' is disallowed`;
  if (/[\u0000-\u001f\u007f/\\]/.test(id)) return `'${id}' contains invalid characters`;
  return undefined;
}

export function groupProblem(executor: ExecutorInfo, tasks: readonly TaskInfo[], wires?: readonly ContainerWire[]): string | undefined {
  const badExecutorId = idProblem(executor.executorId);
  if (badExecutorId !== undefined) return `Executor '${executor.executorId}' is invalid: ${badExecutorId}`;
  for (const t of tasks) {
    const bad = idProblem(t.taskId);
    if (bad !== undefined) return `Task '${t.taskId}' is invalid: ${bad}`;
  }
  // mesos.proto ExecutorInfo.Type DEFAULT: "`container.mesos.image` must not be set".
  if (executor.container?.image !== undefined) return `Executor '${executor.executorId}' is DEFAULT and must not have 'container.mesos.image' set`;
  for (const [i, task] of tasks.entries()) {
    const problem = taskProblem(task, executor, wires?.[i]);
    if (problem !== undefined) return `Task '${task.taskId}' is invalid: ${problem}`;
  }
  if (wires !== undefined) {
    // validateShareCgroups: unset counts as true; one value across the group.
    const values = new Set(tasks.map((_, i) => wires[i]?.shareCgroups ?? true));
    if (values.size > 1) return "If set, the value of 'share_cgroups' must be the same for all tasks in each task group and under a single executor";
  }
  return undefined;
}

function taskProblem(task: TaskInfo, executor: ExecutorInfo, wire: ContainerWire | undefined): string | undefined {
  // group::validateExecutor: a task's own ExecutorInfo must be the operation's.
  if (task.executor !== undefined && !isDeepStrictEqual(task.executor, executor)) {
    return `The 'ExecutorInfo' of task '${task.taskId}' is different from executor '${executor.executorId}'`;
  }
  const limits = task.limits;
  if (limits !== undefined && (limits.cpus !== undefined || limits.mem !== undefined)) {
    const limitProblem = limitsProblem(limits, task.resources);
    if (limitProblem !== undefined) return limitProblem;
    // group::validateTask: limits need the task's own cgroups.
    if (wire !== undefined && wire.shareCgroups !== false) {
      return "Resource limits may only be set for tasks within a task group when the 'share_cgroups' field is set to 'false'.";
    }
  }
  return undefined;
}

/** validateResourceLimits: a limit needs a request and is at least it (an infinite mem limit always passes). */
function limitsProblem(limits: NonNullable<TaskInfo["limits"]>, resources: readonly Resource[]): string | undefined {
  const cpus = scalarSum(resources, "cpus");
  const mem = scalarSum(resources, "mem");
  if (limits.cpus !== undefined) {
    if (cpus === undefined) return "When a CPU limit is specified, a CPU request must also be specified";
    if (limits.cpus < cpus) return "The cpu limit must be greater than or equal to the cpu request";
  }
  if (limits.mem !== undefined) {
    if (mem === undefined) return "When a memory limit is specified, a memory request must also be specified";
    if (limits.mem !== Infinity && limits.mem < mem) return "The memory limit must be greater than or equal to the memory request";
  }
  return undefined;
}

function scalarSum(resources: readonly Resource[], name: string): number | undefined {
  const of = resources.filter((r) => r.name === name && r.type === "SCALAR");
  return of.length > 0 ? of.reduce((sum, r) => sum + (r.scalar ?? 0), 0) : undefined;
}

/** What the agent's isolators refuse when the task's container is set up. */
export function launchProblem(task: TaskInfo): string | undefined {
  const c = task.container;
  if (c === undefined) return undefined;
  for (const v of c.volumes ?? []) {
    const s = v.source;
    // mesos.proto Volume.Source.HostPath: "Absolute path pointing to a directory or file on the host".
    if (s.type === "HOST_PATH" && !s.hostPath.path.startsWith("/")) return `Path '${s.hostPath.path}' in HOST_PATH volume is not absolute`;
    if (s.type === "SANDBOX_PATH") {
      // volume/sandbox_path isolator: an absolute path fails; mesos.proto SandboxPath: "upwards traversal … is not allowed".
      const p = s.sandboxPath.path;
      if (p.startsWith("/")) return `Path '${p}' in SANDBOX_PATH volume is absolute`;
      if (p.split("/").includes("..")) return `Path '${p}' in SANDBOX_PATH volume traverses upwards`;
    }
  }
  for (const r of c.rlimitInfo?.rlimits ?? []) {
    // mesos.proto RLimitInfo.RLimit: a known type; "Either both are set or both are not set … we require `soft` <= `hard`".
    if (!RLIMIT_TYPES.has(r.type)) return `Unknown rlimit type '${r.type}'`;
    if ((r.soft === undefined) !== (r.hard === undefined)) return `Invalid rlimit ${r.type}: soft and hard must both be set or both unset`;
    if (r.soft !== undefined && r.hard !== undefined && r.soft > r.hard) return `Invalid rlimit ${r.type}: soft ${r.soft} is greater than hard ${r.hard}`;
  }
  return undefined;
}
