/**
 * Scheduler calls as the local agent reads them (mesos-v1-api.md §1.2, §6, §10, §11): Mesos v1
 * JSON decoded by stout's rules with the driver's JsonReader, so unknown keys (camelCase ones
 * too) are ignored, `null` is unset and a required field missing is a 400 naming it, in the
 * master's words where it has them ("Expecting 'accept' to be present").
 */
import type { CommandCheck, CommandInfo, ExecutorInfo, Filters, Operation, Resource, TaskInfo } from "../../../domain/cluster.js";
import { decoded, JsonReader, MesosDecodeError, type Decoded, type Json } from "../mesos/json-codec.js";
import { decodeResource } from "../mesos/json-codec-resources.js";
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
  | { readonly type: "ACCEPT"; readonly frameworkId: string; readonly offerIds: readonly string[]; readonly operations: readonly Operation[]; readonly filters?: Filters; readonly skipped: readonly string[] }
  | { readonly type: "DECLINE"; readonly frameworkId: string; readonly offerIds: readonly string[]; readonly filters?: Filters }
  | { readonly type: "REVIVE" | "SUPPRESS"; readonly frameworkId: string; readonly roles: readonly string[] }
  | { readonly type: "KILL"; readonly frameworkId: string; readonly taskId: string; readonly agentId?: string }
  | { readonly type: "ACKNOWLEDGE"; readonly frameworkId: string; readonly agentId: string; readonly taskId: string; readonly uuid: string }
  | { readonly type: "RECONCILE"; readonly frameworkId: string; readonly tasks: readonly { taskId: string; agentId?: string }[] }
  /** A call we accept and ignore (SHUTDOWN, MESSAGE, REQUEST, inverse offers, operations…). */
  | { readonly type: "IGNORED"; readonly frameworkId: string; readonly name: string };

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
 * (§2 step 3, validation.cpp). One role only: each framework host keeps one role's books.
 */
export function frameworkInfoProblem(f: WireFrameworkInfo): string | undefined {
  if (f.user === undefined) return "Invalid FrameworkInfo: 'user' is required";
  if (f.name === undefined) return "Invalid FrameworkInfo: 'name' is required";
  if (f.roles.length > 0 && !f.capabilities.includes("MULTI_ROLE")) return "Invalid FrameworkInfo: 'roles' can only be set with the MULTI_ROLE capability";
  if (f.roles.length > 0 && f.role !== undefined) return "Invalid FrameworkInfo: 'role' cannot be set together with 'roles'";
  if (new Set(f.roles).size !== f.roles.length) return "Invalid FrameworkInfo: 'roles' contains duplicate items";
  if (f.roles.length > 1) return "Invalid FrameworkInfo: this agent serves one role per framework (a deviation from Mesos)";
  return undefined;
}

/** The framework's one role: `roles[0]`, else the legacy `role`, else Mesos' default "*". */
export function frameworkRole(f: WireFrameworkInfo): string {
  return f.roles[0] ?? f.role ?? "*";
}

function readAccept(frameworkId: string, a: JsonReader): AgentCall {
  const operations: Operation[] = [];
  const skipped: string[] = [];
  for (const op of a.at("operations").list()) {
    const read = readOperation(op);
    if (typeof read === "string") skipped.push(read);
    else operations.push(read);
  }
  const filters = readFilters(a.at("filters"));
  return { type: "ACCEPT", frameworkId, offerIds: a.at("offer_ids").list().map((o) => o.id()), operations, skipped, ...(filters ? { filters } : {}) };
}

/** One operation, or the name of a type this agent does not run (LAUNCH, GROW_VOLUME…), which is skipped. */
function readOperation(op: JsonReader): Operation | string {
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
    case "LAUNCH_GROUP": {
      const l = op.at("launch_group");
      return { type, executor: readExecutor(l.at("executor")), tasks: l.at("task_group").at("tasks").list().map(readTask) };
    }
    default:
      return type;
  }
}

/** Resources in our domain shape: the offer's allocation role and disk source are dropped (the books do not keep them). */
function resources(list: JsonReader): Resource[] {
  return list.list().flatMap((r) => {
    const d = decodeResource(r);
    if (d.kind === "set") return [];
    const { allocationRole: _a, diskSource: _d, ...resource } = d.resource;
    return [resource];
  });
}

function readFilters(f: JsonReader): Filters | undefined {
  if (!f.present()) return undefined;
  // Filters present without refuse_seconds: the proto default, 5 s.
  return { refuseSeconds: f.at("refuse_seconds").optDouble() ?? 5 };
}

function readExecutor(e: JsonReader): ExecutorInfo {
  return {
    executorId: e.at("executor_id").id(),
    frameworkId: e.at("framework_id").optId() ?? "",
    resources: resources(e.at("resources")),
    labels: e.at("labels").labels(),
  };
}

function readTask(t: JsonReader): TaskInfo {
  const health = t.at("health_check");
  const check = t.at("check");
  const grace = t.at("kill_policy").present() ? t.at("kill_policy").at("grace_period") : undefined;
  const killGraceNs = grace?.present() ? grace.at("nanoseconds").integer() : undefined;
  return {
    name: t.at("name").string(),
    taskId: t.at("task_id").id(),
    agentId: t.at("agent_id").id(),
    resources: resources(t.at("resources")),
    command: readCommand(t.at("command")),
    labels: t.at("labels").labels(),
    ...(health.present() && health.at("command").present() ? { healthCheck: readHealthCheck(health) } : {}),
    ...(check.present() && check.at("command").present() ? { check: readCheck(check) } : {}),
    ...(killGraceNs !== undefined ? { killGracePeriodS: killGraceNs / 1e9 } : {}),
  };
}

function readCommand(c: JsonReader): CommandInfo {
  const environment: Record<string, string> = {};
  if (c.present() && c.at("environment").present()) {
    for (const v of c.at("environment").at("variables").list()) {
      Object.defineProperty(environment, v.at("name").string(), { value: v.at("value").optString() ?? "", enumerable: true, writable: true, configurable: true });
    }
  }
  const user = c.present() ? c.at("user").optString() : undefined;
  return { value: c.present() ? (c.at("value").optString() ?? "") : "", environment, ...(user !== undefined ? { user } : {}) };
}

/** HealthCheck, with the proto's defaults (delay 15, interval 10, timeout 20, failures 3, grace 10). */
function readHealthCheck(h: JsonReader): CommandCheck {
  return {
    command: h.at("command").at("value").optString() ?? "",
    delayS: h.at("delay_seconds").optDouble() ?? 15,
    intervalS: h.at("interval_seconds").optDouble() ?? 10,
    timeoutS: h.at("timeout_seconds").optDouble() ?? 20,
    consecutiveFailures: h.at("consecutive_failures").optInteger() ?? 3,
    gracePeriodS: h.at("grace_period_seconds").optDouble() ?? 10,
  };
}

/** CheckInfo (COMMAND): `command.command.value`; it has no grace period or failure count. */
function readCheck(c: JsonReader): CommandCheck {
  const inner = c.at("command").at("command");
  return {
    command: inner.present() ? (inner.at("value").optString() ?? "") : "",
    delayS: c.at("delay_seconds").optDouble() ?? 15,
    intervalS: c.at("interval_seconds").optDouble() ?? 10,
    timeoutS: c.at("timeout_seconds").optDouble() ?? 20,
    consecutiveFailures: 1,
    gracePeriodS: 0,
  };
}
