/**
 * Scheduler calls as the local agent reads them (mesos-v1-api.md §1.2, §6, §10, §11): Mesos v1
 * JSON decoded by stout's rules with the driver's JsonReader, so unknown keys (camelCase ones
 * too) are ignored, `null` is unset and a required field missing is a 400 naming it, in the
 * master's words where it has them ("Expecting 'accept' to be present").
 */
import type { Filters, Operation } from "../../../domain/cluster.js";
import { decoded, JsonReader, MesosDecodeError, type Decoded, type Json } from "../mesos/json-codec.js";
import { decodeExecutor, decodeTask, domainResources as resources } from "../mesos/json-codec-task-decode.js";
import { groupProblem, launchProblem } from "../mesos/launch-rules.js";
import { bytesToUuid } from "./uuid-bytes.js";

/** FrameworkInfo as SUBSCRIBE carries it; validated further by `frameworkInfoProblem`. */
export interface WireFrameworkInfo {
  readonly id?: string;
  readonly user?: string;
  readonly name?: string;
  readonly roles: readonly string[];
  /** The legacy single `role`, for the "roles without MULTI_ROLE" check. */
  readonly role?: string;
  readonly principal?: string;
  readonly failoverTimeoutS: number;
  readonly checkpoint: boolean;
  readonly capabilities: readonly string[];
}

/** Call types a master knows; the ones we do not act on are accepted and ignored (202). */
const CALL_TYPES = new Set([
  "SUBSCRIBE", "TEARDOWN", "ACCEPT", "DECLINE", "REVIVE", "KILL", "SHUTDOWN", "ACKNOWLEDGE", "RECONCILE", "MESSAGE",
  "REQUEST", "SUPPRESS", "ACCEPT_INVERSE_OFFERS", "DECLINE_INVERSE_OFFERS", "ACKNOWLEDGE_OPERATION_STATUS",
  "RECONCILE_OPERATIONS", "UPDATE_FRAMEWORK",
] as const);
type CallType = typeof CALL_TYPES extends ReadonlySet<infer T> ? T : never;

/** The body field of each call type (none for TEARDOWN). */
const BODY_FIELD: Readonly<Record<CallType, string | undefined>> = {
  SUBSCRIBE: "subscribe",
  TEARDOWN: undefined,
  ACCEPT: "accept",
  DECLINE: "decline",
  REVIVE: undefined, // `revive` is optional: absent = all roles
  KILL: "kill",
  SHUTDOWN: "shutdown",
  ACKNOWLEDGE: "acknowledge",
  RECONCILE: "reconcile",
  MESSAGE: "message",
  REQUEST: "request",
  SUPPRESS: undefined, // likewise
  ACCEPT_INVERSE_OFFERS: "accept_inverse_offers",
  DECLINE_INVERSE_OFFERS: "decline_inverse_offers",
  ACKNOWLEDGE_OPERATION_STATUS: "acknowledge_operation_status",
  RECONCILE_OPERATIONS: "reconcile_operations",
  UPDATE_FRAMEWORK: "update_framework",
};

export type AgentCall =
  | { readonly type: "SUBSCRIBE"; readonly frameworkId?: string; readonly frameworkInfo: WireFrameworkInfo; readonly suppressedRoles: readonly string[] }
  | { readonly type: "TEARDOWN"; readonly frameworkId: string }
  | {
      readonly type: "ACCEPT";
      readonly frameworkId: string;
      readonly offerIds: readonly string[];
      /** The operations to apply, in order; refused task groups are not among them. */
      readonly operations: readonly Operation[];
      readonly filters?: Filters;
      readonly skipped: readonly string[];
      /** Task groups Mesos would refuse: each of their tasks gets the status `refusal` says. */
      readonly refused: readonly RefusedGroup[];
    }
  | { readonly type: "DECLINE"; readonly frameworkId: string; readonly offerIds: readonly string[]; readonly filters?: Filters }
  | { readonly type: "REVIVE" | "SUPPRESS"; readonly frameworkId: string; readonly roles: readonly string[] }
  | { readonly type: "KILL"; readonly frameworkId: string; readonly taskId: string; readonly agentId?: string }
  | { readonly type: "ACKNOWLEDGE"; readonly frameworkId: string; readonly agentId: string; readonly taskId: string; readonly uuid: string }
  | { readonly type: "RECONCILE"; readonly frameworkId: string; readonly tasks: readonly { taskId: string; agentId?: string }[] }
  /** A call we accept and ignore (SHUTDOWN, MESSAGE, REQUEST, inverse offers, operations…). */
  | { readonly type: "IGNORED"; readonly frameworkId: string; readonly name: string };

type LaunchGroup = Extract<Operation, { readonly type: "LAUNCH_GROUP" }>;

/**
 * A LAUNCH_GROUP Mesos would not run. `TASK_ERROR`: the master's validation refused it (a
 * master status, REASON_TASK_GROUP_INVALID, no uuid); `LAUNCH_FAILED`: the agent's isolators
 * would fail the container (TASK_FAILED, REASON_CONTAINER_LAUNCH_FAILED). Either way nothing of
 * the group runs and its resources stay in the offer.
 */
export interface RefusedGroup {
  readonly operation: LaunchGroup;
  readonly refusal: "TASK_ERROR" | "LAUNCH_FAILED";
  readonly message: string;
}

/** Decodes a call body; the error names the field, for the 400's body. */
export function decodeCall(json: Json): Decoded<AgentCall> {
  return decoded(() => readCall(new JsonReader(json, "$")));
}

function readCall(c: JsonReader): AgentCall {
  c.object();
  if (!c.at("type").present()) c.fail("Expecting 'type' to be present");
  const type = c.at("type").enumOf(CALL_TYPES);
  const field = BODY_FIELD[type];
  if (field !== undefined && !c.at(field).present()) throw new MesosDecodeError("$", `Expecting '${field}' to be present`);
  const frameworkId = c.at("framework_id").optId();
  if (type === "SUBSCRIBE") {
    const s = c.at("subscribe");
    const frameworkInfo = readFrameworkInfo(s.at("framework_info"));
    if (frameworkId !== undefined && frameworkId !== frameworkInfo.id) throw new MesosDecodeError("$", "'framework_id' differs from 'subscribe.framework_info.id'");
    return {
      type,
      ...(frameworkId !== undefined ? { frameworkId } : {}),
      frameworkInfo,
      suppressedRoles: s.at("suppressed_roles").list().map((r) => r.string()),
    };
  }
  if (frameworkId === undefined) throw new MesosDecodeError("$", "Expecting 'framework_id' to be present");
  switch (type) {
    case "TEARDOWN":
      return { type, frameworkId };
    case "ACCEPT":
      return readAccept(frameworkId, c.at("accept"));
    case "DECLINE": {
      const d = c.at("decline");
      const filters = readFilters(d.at("filters"));
      return { type, frameworkId, offerIds: d.at("offer_ids").list().map((o) => o.id()), ...(filters ? { filters } : {}) };
    }
    case "REVIVE":
    case "SUPPRESS": {
      const body = c.at(type === "REVIVE" ? "revive" : "suppress");
      return { type, frameworkId, roles: body.present() ? body.at("roles").list().map((r) => r.string()) : [] };
    }
    case "KILL": {
      const k = c.at("kill");
      const agentId = k.at("agent_id").optId();
      return { type, frameworkId, taskId: k.at("task_id").id(), ...(agentId !== undefined ? { agentId } : {}) };
    }
    case "ACKNOWLEDGE": {
      const a = c.at("acknowledge");
      return { type, frameworkId, agentId: a.at("agent_id").id(), taskId: a.at("task_id").id(), uuid: readUuid(a.at("uuid")) };
    }
    case "RECONCILE":
      return {
        type,
        frameworkId,
        tasks: c
          .at("reconcile")
          .at("tasks")
          .list()
          .map((t) => {
            const agentId = t.at("agent_id").optId();
            return { taskId: t.at("task_id").id(), ...(agentId !== undefined ? { agentId } : {}) };
          }),
      };
    default:
      return { type: "IGNORED", frameworkId, name: type };
  }
}

/** `uuid` must be base64 of exactly 16 bytes (Mesos: "Failed to parse UUID" → 400). */
function readUuid(r: JsonReader): string {
  const text = r.optBytes();
  if (text === undefined) r.fail("missing");
  const bytes = Buffer.from(text, "base64");
  if (bytes.length !== 16) r.fail(`expected a 16-byte UUID, got ${bytes.length} bytes`);
  return bytesToUuid(bytes);
}

function readFrameworkInfo(f: JsonReader): WireFrameworkInfo {
  const id = f.at("id").optId();
  const user = f.at("user").optString();
  const name = f.at("name").optString();
  const role = f.at("role").optString();
  const principal = f.at("principal").optString();
  return {
    ...(id !== undefined ? { id } : {}),
    ...(user !== undefined ? { user } : {}),
    ...(name !== undefined ? { name } : {}),
    ...(role !== undefined ? { role } : {}),
    ...(principal !== undefined ? { principal } : {}),
    roles: f.at("roles").list().map((r) => r.string()),
    failoverTimeoutS: f.at("failover_timeout").optDouble() ?? 0,
    checkpoint: f.at("checkpoint").optBoolean() ?? false,
    // An unknown capability name leaves the entry unset (optional enum), so keep the strings.
    capabilities: f.at("capabilities").list().flatMap((c) => c.at("type").optString() ?? []),
  };
}

/**
 * Semantic FrameworkInfo checks the master answers with an ERROR event, not a status code
 * (§2 step 3, validation.cpp). Several roles are allowed (MULTI_ROLE): the main role and the
 * pre-reserved roles' children.
 */
export function frameworkInfoProblem(f: WireFrameworkInfo): string | undefined {
  if (f.user === undefined) return "Invalid FrameworkInfo: 'user' is required";
  if (f.name === undefined) return "Invalid FrameworkInfo: 'name' is required";
  if (f.roles.length > 0 && !f.capabilities.includes("MULTI_ROLE")) return "Invalid FrameworkInfo: 'roles' can only be set with the MULTI_ROLE capability";
  if (f.roles.length > 0 && f.role !== undefined) return "Invalid FrameworkInfo: 'role' cannot be set together with 'roles'";
  if (new Set(f.roles).size !== f.roles.length) return "Invalid FrameworkInfo: 'roles' contains duplicate items";
  return undefined;
}

/** The framework's main role: `roles[0]`, else the legacy `role`, else Mesos' default "*". */
export function frameworkRole(f: WireFrameworkInfo): string {
  return f.roles[0] ?? f.role ?? "*";
}

/** Every role of the framework, the main one first. */
export function frameworkRoles(f: WireFrameworkInfo): readonly string[] {
  return f.roles.length > 0 ? f.roles : [frameworkRole(f)];
}

function readAccept(frameworkId: string, a: JsonReader): AgentCall {
  const operations: Operation[] = [];
  const skipped: string[] = [];
  const refused: RefusedGroup[] = [];
  for (const op of a.at("operations").list()) {
    const read = readOperation(op);
    if (typeof read === "string") skipped.push(read);
    else if ("refusal" in read) refused.push(read);
    else operations.push(read);
  }
  const filters = readFilters(a.at("filters"));
  return { type: "ACCEPT", frameworkId, offerIds: a.at("offer_ids").list().map((o) => o.id()), operations, skipped, refused, ...(filters ? { filters } : {}) };
}

/** One operation, a refused task group, or the name of a type this agent does not run (LAUNCH, GROW_VOLUME…), which is skipped. */
function readOperation(op: JsonReader): Operation | RefusedGroup | string {
  const type = op.at("type").string();
  switch (type) {
    case "RESERVE":
      return { type, resources: resources(op.at("reserve").at("resources")) };
    case "UNRESERVE":
      return { type, resources: resources(op.at("unreserve").at("resources")) };
    case "CREATE":
      return { type, volumes: resources(op.at("create").at("volumes")) };
    case "DESTROY":
      return { type, volumes: resources(op.at("destroy").at("volumes")) };
    case "LAUNCH_GROUP":
      return readLaunchGroup(op.at("launch_group"));
    default:
      return type;
  }
}

function readFilters(f: JsonReader): Filters | undefined {
  if (!f.present()) return undefined;
  // Filters present without refuse_seconds: the proto default, 5 s.
  return { refuseSeconds: f.at("refuse_seconds").optDouble() ?? 5 };
}

/** A LAUNCH_GROUP, or its refusal: the master's checks first, then the agent's launch checks. */
function readLaunchGroup(l: JsonReader): LaunchGroup | RefusedGroup {
  const problems: string[] = [];
  const executor = decodeExecutor(l.at("executor"), problems);
  const decodedTasks = l.at("task_group").at("tasks").list().map((t) => decodeTask(t, problems));
  const operation: LaunchGroup = { type: "LAUNCH_GROUP", executor, tasks: decodedTasks.map((d) => d.task) };
  const invalid = problems[0] ?? groupProblem(executor, operation.tasks, decodedTasks.map((d) => d.wire));
  if (invalid !== undefined) return { operation, refusal: "TASK_ERROR", message: invalid };
  for (const task of operation.tasks) {
    const failed = launchProblem(task);
    if (failed !== undefined) return { operation, refusal: "LAUNCH_FAILED", message: `Task '${task.taskId}': ${failed}` };
  }
  return operation;
}
