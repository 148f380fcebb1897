/**
 * Scheduler events from Mesos v1 JSON (mesos-v1-api.md §7, §9, §12) into our cluster
 * vocabulary. Shape is validated (a required field missing, a wrong type or an unknown required
 * enum → a MesosDecodeError naming the path); unknown fields are ignored and unknown event types
 * come back as `ignored`, as Mesos clients must treat them.
 */
import type { Offer, TaskState, TaskStatus } from "../../../domain/cluster.js";
import { decoded, JsonReader, MesosDecodeError, type Decoded, type Json } from "./json-codec.js";
import { decodeAttribute, decodeResource, type MesosResource, type MesosSetResource } from "./json-codec-resources.js";

/** An offer with what Mesos sends beyond our `Offer`. */
export interface MesosOffer extends Offer {
  readonly resources: readonly MesosResource[];
  /** `allocation_info.role`: the one role this offer is for (MULTI_ROLE). */
  readonly allocationRole?: string;
  /** Fault domain (`domain.fault_domain`), for zone- and region-aware placement. */
  readonly domain?: { readonly region: string; readonly zone: string };
  /** Executors of ours already running on the agent. */
  readonly executorIds: readonly string[];
  /** SET-typed resources, which `Resource` cannot hold. */
  readonly setResources: readonly MesosSetResource[];
}

/** A task status with what Mesos sends beyond our `TaskStatus`. */
export interface MesosTaskStatus extends TaskStatus {
  readonly executorId?: string;
}

/** An operation status (UPDATE_OPERATION_STATUS); the domain has no operation feedback yet. */
export interface MesosOperationStatus {
  readonly operationId?: string;
  readonly state: OperationState;
  readonly message?: string;
  readonly agentId?: string;
  /** Base64 of the status's UUID message; present = acknowledge with ACKNOWLEDGE_OPERATION_STATUS. */
  readonly uuid?: string;
}

/** Mesos `OperationState` names. */
export type OperationState =
  | "OPERATION_UNSUPPORTED"
  | "OPERATION_PENDING"
  | "OPERATION_FINISHED"
  | "OPERATION_FAILED"
  | "OPERATION_ERROR"
  | "OPERATION_DROPPED"
  | "OPERATION_UNREACHABLE"
  | "OPERATION_GONE_BY_OPERATOR"
  | "OPERATION_RECOVERING"
  | "OPERATION_UNKNOWN";

/**
 * An offer of an OFFERS event that did not decode. The others still do, and the driver declines
 * this one by its id when it could be read: an offer never answered holds its resources.
 */
export interface RejectedOffer {
  readonly offerId?: string;
  readonly error: MesosDecodeError;
}

/** One decoded event. */
export type MesosEvent =
  | { readonly kind: "subscribed"; readonly frameworkId: string; readonly heartbeatIntervalS?: number; readonly masterId?: string }
  | { readonly kind: "offers"; readonly offers: readonly MesosOffer[]; readonly rejected: readonly RejectedOffer[] }
  | { readonly kind: "rescind"; readonly offerId: string }
  | { readonly kind: "update"; readonly status: MesosTaskStatus }
  | { readonly kind: "operationStatus"; readonly status: MesosOperationStatus }
  | { readonly kind: "message"; readonly agentId: string; readonly executorId: string; readonly data?: string }
  | { readonly kind: "failure"; readonly agentId?: string; readonly executorId?: string; readonly status?: number }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "heartbeat" }
  /** An event type we do not act on (inverse offers) or do not know; clients ignore these. */
  | { readonly kind: "ignored"; readonly type: string };

/**
 * Decodes one event record's text. `nowMs` stands in for a status update without a timestamp
 * (Mesos always sets one; a test double might not).
 */
export function decodeEventText(text: string, nowMs: number): Decoded<MesosEvent> {
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (err) {
    return { ok: false, error: new MesosDecodeError("$", `not JSON (${(err as Error).message})`) };
  }
  return decodeEvent(json, nowMs);
}

/** Decodes one parsed event. */
export function decodeEvent(json: Json, nowMs: number): Decoded<MesosEvent> {
  return decoded(() => readEvent(new JsonReader(json, "$"), nowMs));
}

function readEvent(e: JsonReader, nowMs: number): MesosEvent {
  const type = e.at("type").string();
  switch (type) {
    case "SUBSCRIBED":
      return readSubscribed(e.at("subscribed"));
    case "OFFERS":
      return readOffers(e.at("offers").at("offers"));
    case "RESCIND":
      return { kind: "rescind", offerId: e.at("rescind").at("offer_id").id() };
    case "UPDATE":
      return { kind: "update", status: readTaskStatus(e.at("update").at("status"), nowMs) };
    case "UPDATE_OPERATION_STATUS":
      return { kind: "operationStatus", status: readOperationStatus(e.at("update_operation_status").at("status")) };
    case "MESSAGE":
      return readMessage(e.at("message"));
    case "FAILURE":
      return readFailure(e.at("failure"));
    case "ERROR":
      return { kind: "error", message: e.at("error").at("message").string() };
    case "HEARTBEAT":
      return { kind: "heartbeat" };
    default:
      return { kind: "ignored", type };
  }
}

function readSubscribed(s: JsonReader): MesosEvent {
  const heartbeatIntervalS = s.at("heartbeat_interval_seconds").optDouble();
  const masterId = s.at("master_info").present() ? s.at("master_info").at("id").string() : undefined;
  return {
    kind: "subscribed",
    frameworkId: s.at("framework_id").id(),
    ...(heartbeatIntervalS !== undefined ? { heartbeatIntervalS } : {}),
    ...(masterId !== undefined ? { masterId } : {}),
  };
}

function readOffers(list: JsonReader): MesosEvent {
  const offers: MesosOffer[] = [];
  const rejected: RejectedOffer[] = [];
  for (const o of list.list()) {
    const d = decoded(() => readOffer(o));
    if (d.ok) offers.push(d.value);
    else rejected.push(rejectedOffer(o, d.error));
  }
  return { kind: "offers", offers, rejected };
}

function rejectedOffer(o: JsonReader, error: MesosDecodeError): RejectedOffer {
  const id = decoded(() => o.at("id").id());
  return id.ok ? { offerId: id.value, error } : { error };
}

function readOffer(o: JsonReader): MesosOffer {
  const resources: MesosResource[] = [];
  const setResources: MesosSetResource[] = [];
  for (const r of o.at("resources").list()) {
    const d = decodeResource(r);
    if (d.kind === "set") setResources.push(d.resource);
    else resources.push(d.resource);
  }
  const attributes = o.at("attributes").list().map(decodeAttribute);
  const allocationRole = o.at("allocation_info").present() ? o.at("allocation_info").at("role").optString() : undefined;
  const domain = readDomain(o.at("domain"));
  return {
    id: o.at("id").id(),
    frameworkId: o.at("framework_id").id(),
    agentId: o.at("agent_id").id(),
    hostname: o.at("hostname").string(),
    resources,
    ...(attributes.length > 0 ? { attributes: Object.fromEntries(attributes) } : {}),
    ...(allocationRole !== undefined ? { allocationRole } : {}),
    ...(domain !== undefined ? { domain } : {}),
    executorIds: o.at("executor_ids").list().map((x) => x.id()),
    setResources,
  };
}

function readDomain(d: JsonReader): MesosOffer["domain"] {
  if (!d.present() || !d.at("fault_domain").present()) return undefined;
  const f = d.at("fault_domain");
  return { region: f.at("region").at("name").string(), zone: f.at("zone").at("name").string() };
}

const TASK_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  "TASK_STAGING", "TASK_STARTING", "TASK_RUNNING", "TASK_KILLING", "TASK_FINISHED", "TASK_FAILED", "TASK_KILLED",
  "TASK_ERROR", "TASK_LOST", "TASK_DROPPED", "TASK_UNREACHABLE", "TASK_GONE", "TASK_GONE_BY_OPERATOR", "TASK_UNKNOWN",
]);

const SOURCES: ReadonlySet<NonNullable<TaskStatus["source"]>> = new Set(["SOURCE_MASTER", "SOURCE_AGENT", "SOURCE_EXECUTOR"]);

/** `TaskStatus.Reason` names (mesos.proto, v1). */
export const TASK_STATUS_REASONS: ReadonlySet<string> = new Set([
  "REASON_COMMAND_EXECUTOR_FAILED", "REASON_CONTAINER_LAUNCH_FAILED", "REASON_CONTAINER_LIMITATION",
  "REASON_CONTAINER_LIMITATION_DISK", "REASON_CONTAINER_LIMITATION_MEMORY", "REASON_CONTAINER_PREEMPTED",
  "REASON_CONTAINER_UPDATE_FAILED", "REASON_MAX_COMPLETION_TIME_REACHED", "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
  "REASON_EXECUTOR_REREGISTRATION_TIMEOUT", "REASON_EXECUTOR_TERMINATED", "REASON_EXECUTOR_UNREGISTERED",
  "REASON_FRAMEWORK_REMOVED", "REASON_GC_ERROR", "REASON_INVALID_FRAMEWORKID", "REASON_INVALID_OFFERS",
  "REASON_IO_SWITCHBOARD_EXITED", "REASON_MASTER_DISCONNECTED", "REASON_RECONCILIATION", "REASON_RESOURCES_UNKNOWN",
  "REASON_AGENT_DISCONNECTED", "REASON_AGENT_REMOVED", "REASON_AGENT_REMOVED_BY_OPERATOR", "REASON_AGENT_REREGISTERED",
  "REASON_AGENT_RESTARTED", "REASON_AGENT_UNKNOWN", "REASON_AGENT_DRAINING", "REASON_TASK_KILLED_DURING_LAUNCH",
  "REASON_TASK_CHECK_STATUS_UPDATED", "REASON_TASK_HEALTH_CHECK_STATUS_UPDATED", "REASON_TASK_GROUP_INVALID",
  "REASON_TASK_GROUP_UNAUTHORIZED", "REASON_TASK_INVALID", "REASON_TASK_UNAUTHORIZED", "REASON_TASK_UNKNOWN",
]);

function readTaskStatus(s: JsonReader, nowMs: number): MesosTaskStatus {
  const agentId = s.at("agent_id").optId();
  const executorId = s.at("executor_id").optId();
  const uuid = s.at("uuid").optBytes();
  const message = s.at("message").optString();
  const reason = s.at("reason").optEnumOf(TASK_STATUS_REASONS);
  const source = s.at("source").optEnumOf(SOURCES);
  const healthy = s.at("healthy").optBoolean();
  const checkStatus = readCheckStatus(s.at("check_status"));
  const timestamp = s.at("timestamp").optDouble();
  return {
    taskId: s.at("task_id").id(),
    state: s.at("state").enumOf(TASK_STATES),
    ...(agentId !== undefined ? { agentId } : {}),
    ...(executorId !== undefined ? { executorId } : {}),
    ...(uuid !== undefined ? { uuid } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(source !== undefined ? { source } : {}),
    ...(healthy !== undefined ? { healthy } : {}),
    ...(checkStatus !== undefined ? { checkStatus } : {}),
    ...(s.at("labels").present() ? { labels: s.at("labels").labels() } : {}),
    timestampMs: timestamp !== undefined ? Math.round(timestamp * 1000) : nowMs,
  };
}

/** `CheckStatusInfo`: only a COMMAND check's exit code maps to our readiness result. */
function readCheckStatus(c: JsonReader): TaskStatus["checkStatus"] {
  if (!c.present()) return undefined;
  const command = c.at("command");
  const exitCode = command.present() ? command.at("exit_code").optInteger() : undefined;
  return exitCode !== undefined ? { exitCode } : {};
}

const OPERATION_STATES: ReadonlySet<OperationState> = new Set<OperationState>([
  "OPERATION_UNSUPPORTED", "OPERATION_PENDING", "OPERATION_FINISHED", "OPERATION_FAILED", "OPERATION_ERROR",
  "OPERATION_DROPPED", "OPERATION_UNREACHABLE", "OPERATION_GONE_BY_OPERATOR", "OPERATION_RECOVERING", "OPERATION_UNKNOWN",
]);

/** OperationStatus: note `uuid` is a UUID message `{value: base64}` here, unlike TaskStatus (§17.10). */
function readOperationStatus(s: JsonReader): MesosOperationStatus {
  const operationId = s.at("operation_id").optId();
  const message = s.at("message").optString();
  const agentId = s.at("agent_id").optId();
  const uuid = s.at("uuid").present() ? s.at("uuid").at("value").optBytes() : undefined;
  return {
    ...(operationId !== undefined ? { operationId } : {}),
    state: s.at("state").enumOf(OPERATION_STATES),
    ...(message !== undefined ? { message } : {}),
    ...(agentId !== undefined ? { agentId } : {}),
    ...(uuid !== undefined ? { uuid } : {}),
  };
}

function readMessage(m: JsonReader): MesosEvent {
  const data = m.at("data").optBytes();
  return {
    kind: "message",
    agentId: m.at("agent_id").id(),
    executorId: m.at("executor_id").id(),
    ...(data !== undefined ? { data } : {}),
  };
}

function readFailure(f: JsonReader): MesosEvent {
  const agentId = f.at("agent_id").optId();
  const executorId = f.at("executor_id").optId();
  const status = f.at("status").optInteger();
  return {
    kind: "failure",
    ...(agentId !== undefined ? { agentId } : {}),
    ...(executorId !== undefined ? { executorId } : {}),
    ...(status !== undefined ? { status } : {}),
  };
}
