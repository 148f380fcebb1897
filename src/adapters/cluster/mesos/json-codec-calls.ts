/**
 * Scheduler calls as Mesos v1 JSON (mesos-v1-api.md §6, §8, §10, §11): the bodies the driver
 * POSTs to `/api/v1/scheduler`. Every call but a first SUBSCRIBE carries `framework_id`.
 */
import type { CommandCheck, CommandInfo, ExecutorInfo, Filters, Operation, TaskInfo } from "../../../domain/cluster.js";
import type { FrameworkInfo } from "../../../engine/ports.js";
import { encodeLabels, idOf, type JsonObject } from "./json-codec.js";
import { encodeResource } from "./json-codec-resources.js";

/** What SUBSCRIBE needs beyond the port's FrameworkInfo. */
export interface SubscribeOptions {
  /** Unix user the tasks run as (required by Mesos; the HTTP API does not fill it in). */
  readonly user: string;
  /** Roles to keep suppressed: every SUBSCRIBE replaces the suppressed set (§13), so always send it. */
  readonly suppressedRoles: readonly string[];
}

/**
 * SUBSCRIBE with our FrameworkInfo: MULTI_ROLE (so `roles`) and RESERVATION_REFINEMENT (the
 * `reservations` stack), checkpointing on. A re-subscription sets the framework ID both at the top
 * level and in `framework_info.id` (§2 step 7).
 */
export function encodeSubscribe(framework: FrameworkInfo, options: SubscribeOptions): JsonObject {
  const id = framework.frameworkId;
  return {
    ...(id !== undefined ? { framework_id: idOf(id) } : {}),
    type: "SUBSCRIBE",
    subscribe: {
      framework_info: {
        ...(id !== undefined ? { id: idOf(id) } : {}),
        user: options.user,
        name: framework.name,
        roles: [framework.role],
        principal: framework.principal,
        failover_timeout: framework.failoverTimeoutS,
        checkpoint: true,
        capabilities: [{ type: "MULTI_ROLE" }, { type: "RESERVATION_REFINEMENT" }],
      },
      suppressed_roles: [...options.suppressedRoles],
    },
  };
}

/**
 * An operation with a feedback id: Mesos allows ids only on non-launch operations (an id on
 * LAUNCH_GROUP fails its tasks with TASK_ERROR, §10), so the type rules it out there.
 */
export interface IdentifiedOperation {
  readonly id: string;
  readonly operation: Exclude<Operation, { readonly type: "LAUNCH_GROUP" }>;
}

/** ACCEPT: operations apply in order; leftovers are declined with `filters` (Mesos default 5 s when omitted). */
export function encodeAccept(
  frameworkId: string,
  offerIds: readonly string[],
  operations: readonly (Operation | IdentifiedOperation)[],
  filters?: Filters,
): JsonObject {
  return call(frameworkId, "ACCEPT", "accept", {
    offer_ids: offerIds.map(idOf),
    operations: operations.map((o) => ("operation" in o ? encodeOperation(o.operation, o.id) : encodeOperation(o))),
    ...encodeFilters(filters),
  });
}

/** DECLINE; without `filters` Mesos applies its 5 s default. */
export function encodeDecline(frameworkId: string, offerIds: readonly string[], filters?: Filters): JsonObject {
  return call(frameworkId, "DECLINE", "decline", { offer_ids: offerIds.map(idOf), ...encodeFilters(filters) });
}

/** REVIVE for the given roles (empty = all roles): clears their filters and un-suppresses them. */
export function encodeRevive(frameworkId: string, roles: readonly string[]): JsonObject {
  return call(frameworkId, "REVIVE", "revive", { roles: [...roles] });
}

/** SUPPRESS for the given roles (empty = all roles). */
export function encodeSuppress(frameworkId: string, roles: readonly string[]): JsonObject {
  return call(frameworkId, "SUPPRESS", "suppress", { roles: [...roles] });
}

export function encodeKill(frameworkId: string, taskId: string, agentId?: string): JsonObject {
  return call(frameworkId, "KILL", "kill", { task_id: idOf(taskId), ...(agentId !== undefined ? { agent_id: idOf(agentId) } : {}) });
}

/** ACKNOWLEDGE a status update; `uuid` is the update's base64 text, echoed exactly. */
export function encodeAcknowledge(frameworkId: string, agentId: string, taskId: string, uuid: string): JsonObject {
  return call(frameworkId, "ACKNOWLEDGE", "acknowledge", { agent_id: idOf(agentId), task_id: idOf(taskId), uuid });
}

/** ACKNOWLEDGE_OPERATION_STATUS; `uuid` is the base64 inside the status's UUID message, sent as raw bytes (§7, §17.10). */
export function encodeAcknowledgeOperationStatus(frameworkId: string, agentId: string, operationId: string, uuid: string): JsonObject {
  return call(frameworkId, "ACKNOWLEDGE_OPERATION_STATUS", "acknowledge_operation_status", {
    agent_id: idOf(agentId),
    uuid,
    operation_id: idOf(operationId),
  });
}

/** RECONCILE: explicit for the given tasks, implicit (all tasks) when none are given. */
export function encodeReconcile(frameworkId: string, tasks: readonly { taskId: string; agentId?: string }[]): JsonObject {
  return call(frameworkId, "RECONCILE", "reconcile", {
    ...(tasks.length > 0
      ? { tasks: tasks.map((t) => ({ task_id: idOf(t.taskId), ...(t.agentId !== undefined ? { agent_id: idOf(t.agentId) } : {}) })) }
      : {}),
  });
}

/** TEARDOWN: removes the framework; reservations and volumes stay (§15). */
export function encodeTeardown(frameworkId: string): JsonObject {
  return { framework_id: idOf(frameworkId), type: "TEARDOWN" };
}

function call(frameworkId: string, type: string, field: string, body: JsonObject): JsonObject {
  return { framework_id: idOf(frameworkId), type, [field]: body };
}

function encodeFilters(filters: Filters | undefined): JsonObject {
  return filters !== undefined ? { filters: { refuse_seconds: filters.refuseSeconds } } : {};
}

/** One `Offer.Operation`. */
export function encodeOperation(op: Operation, id?: string): JsonObject {
  const opId = id !== undefined ? { id: idOf(id) } : {};
  switch (op.type) {
    case "RESERVE":
      return { type: "RESERVE", ...opId, reserve: { resources: op.resources.map(encodeResource) } };
    case "UNRESERVE":
      return { type: "UNRESERVE", ...opId, unreserve: { resources: op.resources.map(encodeResource) } };
    case "CREATE":
      return { type: "CREATE", ...opId, create: { volumes: op.volumes.map(encodeResource) } };
    case "DESTROY":
      return { type: "DESTROY", ...opId, destroy: { volumes: op.volumes.map(encodeResource) } };
    case "LAUNCH_GROUP":
      return {
        type: "LAUNCH_GROUP",
        launch_group: { executor: encodeExecutor(op.executor), task_group: { tasks: op.tasks.map(encodeTask) } },
      };
  }
}

/** The DEFAULT executor (no command, no container: Mesos supplies both). */
function encodeExecutor(e: ExecutorInfo): JsonObject {
  return {
    type: "DEFAULT",
    executor_id: idOf(e.executorId),
    framework_id: idOf(e.frameworkId),
    resources: e.resources.map(encodeResource),
    ...(Object.keys(e.labels).length > 0 ? { labels: encodeLabels(e.labels) } : {}),
  };
}

/** A TaskInfo; the health check maps to `health_check`, the readiness check to `check` (§11). */
export function encodeTask(t: TaskInfo): JsonObject {
  return {
    name: t.name,
    task_id: idOf(t.taskId),
    agent_id: idOf(t.agentId),
    resources: t.resources.map(encodeResource),
    command: encodeCommand(t.command),
    ...(Object.keys(t.labels).length > 0 ? { labels: encodeLabels(t.labels) } : {}),
    ...(t.healthCheck !== undefined ? { health_check: encodeHealthCheck(t.healthCheck) } : {}),
    ...(t.check !== undefined ? { check: encodeCheck(t.check) } : {}),
    ...(t.killGracePeriodS !== undefined ? { kill_policy: { grace_period: duration(t.killGracePeriodS) } } : {}),
  };
}

function encodeCommand(c: CommandInfo): JsonObject {
  const variables = Object.entries(c.environment).map(([name, value]) => ({ name, value }));
  return {
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
