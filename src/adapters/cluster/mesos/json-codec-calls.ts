/**
 * Scheduler calls as Mesos v1 JSON (mesos-v1-api.md §6, §8, §10, §11): the bodies the driver
 * POSTs to `/api/v1/scheduler`. Every call but a first SUBSCRIBE carries `framework_id`.
 */
import type { Filters, Operation } from "../../../domain/cluster.js";
import type { FrameworkInfo } from "../../../engine/ports.js";
import { idOf, type JsonObject } from "./json-codec.js";
import { encodeResource } from "./json-codec-resources.js";
import { encodeExecutor, encodeTaskGroup } from "./json-codec-task.js";

/** What SUBSCRIBE needs beyond the port's FrameworkInfo. */
export interface SubscribeOptions {
  /** Unix user the tasks run as (required by Mesos; the HTTP API does not fill it in). */
  readonly user: string;
  /** Roles to keep suppressed: every SUBSCRIBE replaces the suppressed set (§13), so always send it. */
  readonly suppressedRoles: readonly string[];
  /** Roles beyond `framework.role` (pre-reserved roles' children, e.g. `slave_public/svc-role`). */
  readonly roles?: readonly string[];
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
        roles: [...new Set([framework.role, ...(options.roles ?? [])])],
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
        launch_group: { executor: encodeExecutor(op.executor), task_group: { tasks: encodeTaskGroup(op.tasks) } },
      };
  }
}
