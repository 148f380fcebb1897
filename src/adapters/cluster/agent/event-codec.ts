/**
 * Scheduler events as the local agent writes them (mesos-v1-api.md §7, §9, §12): Mesos v1 JSON
 * that the driver's decodeEvent reads. OFFERS keeps the `Offers` wrapper (§17.11), every offer
 * and resource carries `allocation_info.role` (MULTI_ROLE), UPDATE's uuid is base64 of 16 bytes.
 */
import type { Offer, TaskStatus } from "../../../domain/cluster.js";
import { encodeLabels, idOf, type JsonObject } from "../mesos/json-codec.js";
import { encodeResource } from "../mesos/json-codec-resources.js";
import { uuidToBase64 } from "./uuid-bytes.js";

/** What the agent says about itself in SUBSCRIBED (`MasterInfo`). */
export interface AgentMasterInfo {
  readonly id: string;
  readonly hostname: string;
  readonly port: number;
}

export type AgentEvent =
  | { readonly kind: "subscribed"; readonly frameworkId: string; readonly heartbeatIntervalS: number; readonly master: AgentMasterInfo }
  /** `role` is the allocation role of every offer, unless an offer names its own (`allocationRole`, e.g. a pre-reserved role's child). */
  | { readonly kind: "offers"; readonly offers: readonly (Offer & { readonly allocationRole?: string })[]; readonly role: string }
  | { readonly kind: "rescind"; readonly offerId: string }
  | { readonly kind: "update"; readonly status: TaskStatus }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "heartbeat" };

/** 127.0.0.1 packed as MasterInfo.ip (network byte order read as a little-endian uint32). */
const LOOPBACK_IP = 0x0100007f;

export function encodeEvent(e: AgentEvent): JsonObject {
  switch (e.kind) {
    case "subscribed":
      return {
        type: "SUBSCRIBED",
        subscribed: {
          framework_id: idOf(e.frameworkId),
          heartbeat_interval_seconds: e.heartbeatIntervalS,
          master_info: encodeMasterInfo(e.master),
        },
      };
    case "offers":
      return { type: "OFFERS", offers: { offers: e.offers.map((o) => encodeOffer(o, o.allocationRole ?? e.role)) } };
    case "rescind":
      return { type: "RESCIND", rescind: { offer_id: idOf(e.offerId) } };
    case "update":
      return { type: "UPDATE", update: { status: encodeTaskStatus(e.status) } };
    case "error":
      return { type: "ERROR", error: { message: e.message } };
    case "heartbeat":
      return { type: "HEARTBEAT" };
  }
}

export function encodeMasterInfo(m: AgentMasterInfo): JsonObject {
  return {
    id: m.id,
    ip: LOOPBACK_IP,
    port: m.port,
    hostname: m.hostname,
    address: { hostname: m.hostname, ip: "127.0.0.1", port: m.port },
  };
}

export function encodeOffer(o: Offer, role: string): JsonObject {
  const attributes = Object.entries(o.attributes ?? {}).map(([name, value]) => ({ name, type: "TEXT", text: { value } }));
  return {
    id: idOf(o.id),
    framework_id: idOf(o.frameworkId),
    agent_id: idOf(o.agentId),
    hostname: o.hostname,
    allocation_info: { role },
    resources: o.resources.map((r) => encodeResource({ ...r, allocationRole: role })),
    ...(attributes.length > 0 ? { attributes } : {}),
  };
}

/** A TaskStatus; `uuid` only on agent/executor updates (the scheduler acknowledges those). */
export function encodeTaskStatus(s: TaskStatus, executorPid?: number): JsonObject {
  return {
    task_id: idOf(s.taskId),
    state: s.state,
    ...(s.message !== undefined ? { message: s.message } : {}),
    ...(s.source !== undefined ? { source: s.source } : {}),
    ...(s.reason !== undefined ? { reason: s.reason } : {}),
    ...(s.agentId !== undefined ? { agent_id: idOf(s.agentId) } : {}),
    timestamp: s.timestampMs / 1000,
    ...(s.uuid !== undefined ? { uuid: uuidToBase64(s.uuid) } : {}),
    ...(s.healthy !== undefined ? { healthy: s.healthy } : {}),
    ...(s.checkStatus !== undefined
      ? { check_status: { type: "COMMAND", command: s.checkStatus.exitCode !== undefined ? { exit_code: s.checkStatus.exitCode } : {} } }
      : {}),
    ...(s.labels !== undefined && Object.keys(s.labels).length > 0 ? { labels: encodeLabels(s.labels) } : {}),
    ...(executorPid !== undefined ? { container_status: { executor_pid: executorPid } } : {}),
  };
}
