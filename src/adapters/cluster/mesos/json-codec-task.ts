/**
 * TaskInfo and ExecutorInfo as Mesos v1 JSON (mesos-v1-api.md §1.2, §11; mesos.proto
 * `TaskInfo`, `ExecutorInfo`, `CommandInfo`, `HealthCheck`, `CheckInfo`). The container,
 * discovery and limits parts are in json-codec-container.ts.
 */
import type { CommandCheck, CommandInfo, ExecutorInfo, TaskInfo } from "../../../domain/cluster.js";
import { encodeLabels, idOf, type JsonObject } from "./json-codec.js";
import { encodeContainer, encodeDiscovery, encodeLimits, encodeSecret } from "./json-codec-container.js";
import { encodeResource } from "./json-codec-resources.js";

/** The DEFAULT executor: no command (Mesos supplies it); a container only of type MESOS without an image. */
export function encodeExecutor(e: ExecutorInfo): JsonObject {
  return {
    type: "DEFAULT",
    executor_id: idOf(e.executorId),
    framework_id: idOf(e.frameworkId),
    resources: e.resources.map(encodeResource),
    ...(e.container !== undefined ? { container: encodeContainer(e.container) } : {}),
    ...(Object.keys(e.labels).length > 0 ? { labels: encodeLabels(e.labels) } : {}),
  };
}

/**
 * The tasks of one LAUNCH_GROUP. `TaskInfo.executor` is left out: the operation carries it and
 * the master copies it into each task. Limits need `share_cgroups: false` on every task of the
 * group, and Mesos wants that value the same across the group (master/validation.cpp
 * `validateShareCgroups`), so one task with limits sets it on all of them.
 */
export function encodeTaskGroup(tasks: readonly TaskInfo[]): JsonObject[] {
  const ownCgroups = tasks.some((t) => hasLimits(t));
  return tasks.map((t) => encodeTask(t, ownCgroups));
}

/** A TaskInfo; the health check maps to `health_check`, the readiness check to `check` (§11). */
export function encodeTask(t: TaskInfo, ownCgroups = hasLimits(t)): JsonObject {
  const container = encodeContainer(t.container ?? { type: "MESOS" }, ownCgroups ? { shareCgroups: false } : {});
  return {
    name: t.name,
    task_id: idOf(t.taskId),
    agent_id: idOf(t.agentId),
    resources: t.resources.map(encodeResource),
    command: encodeCommand(t.command),
    ...(t.container !== undefined || ownCgroups ? { container } : {}),
    ...(Object.keys(t.labels).length > 0 ? { labels: encodeLabels(t.labels) } : {}),
    ...(t.discovery !== undefined ? { discovery: encodeDiscovery(t.discovery) } : {}),
    ...(t.healthCheck !== undefined ? { health_check: encodeHealthCheck(t.healthCheck) } : {}),
    ...(t.check !== undefined ? { check: encodeCheck(t.check) } : {}),
    ...(t.killGracePeriodS !== undefined ? { kill_policy: { grace_period: duration(t.killGracePeriodS) } } : {}),
    ...(hasLimits(t) ? { limits: encodeLimits(t.limits ?? {}) } : {}),
  };
}

function hasLimits(t: TaskInfo): boolean {
  return t.limits !== undefined && (t.limits.cpus !== undefined || t.limits.mem !== undefined);
}

/** Shell command; plain variables first, then the SECRET ones (type REFERENCE: the agent resolves them). */
export function encodeCommand(c: CommandInfo): JsonObject {
  const plain = Object.entries(c.environment).map(([name, value]) => ({ name, value }));
  const secret = Object.entries(c.secretEnvironment ?? {}).map(([name, ref]) => ({ name, type: "SECRET", secret: encodeSecret(ref) }));
  const variables = [...plain, ...secret];
  const uris = (c.uris ?? []).map((u) => ({
    value: u.value,
    ...(u.executable !== undefined ? { executable: u.executable } : {}),
    ...(u.extract !== undefined ? { extract: u.extract } : {}),
    ...(u.cache !== undefined ? { cache: u.cache } : {}),
    ...(u.outputFile !== undefined ? { output_file: u.outputFile } : {}),
  }));
  return {
    ...(uris.length > 0 ? { uris } : {}),
    shell: true,
    value: c.value,
    ...(variables.length > 0 ? { environment: { variables } } : {}),
    ...(c.user !== undefined ? { user: c.user } : {}),
  };
}

/** `HealthCheck` of type COMMAND (seconds as doubles, as the proto has them). */
function encodeHealthCheck(h: CommandCheck): JsonObject {
  return {
    type: "COMMAND",
    command: { shell: true, value: h.command },
    delay_seconds: h.delayS,
    interval_seconds: h.intervalS,
    timeout_seconds: h.timeoutS,
    consecutive_failures: h.consecutiveFailures,
    grace_period_seconds: h.gracePeriodS,
  };
}

/** `CheckInfo` of type COMMAND; CheckInfo has no grace period or failure count, so those are not sent. */
function encodeCheck(c: CommandCheck): JsonObject {
  return {
    type: "COMMAND",
    command: { command: { shell: true, value: c.command } },
    delay_seconds: c.delayS,
    interval_seconds: c.intervalS,
    timeout_seconds: c.timeoutS,
  };
}

/** A `DurationInfo`: int64 nanoseconds as a JSON number. */
function duration(seconds: number): JsonObject {
  return { nanoseconds: Math.round(seconds * 1e9) };
}
