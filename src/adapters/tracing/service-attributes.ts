/**
 * Which Corral services a store path, a cluster call or a request concerns, as span attributes.
 * One service: `corral.service` = its name. Several (a multi writing the launches of a whole
 * offer cycle, an ACCEPT carrying two services' operations): `corral.service` = the first by
 * name, `corral.service.count` = how many, `corral.services` = the names (at most
 * MAX_LISTED_SERVICES), so a query by `corral.service` finds the span for one of them and the
 * list finds it for all.
 */
import type { Attributes } from "@opentelemetry/api";
import { LABEL_NAMESPACE } from "../../domain/cluster.js";
import type { Operation, Resource } from "../../domain/cluster.js";
import { reservationLabels } from "../../domain/offer/pool.js";
import { tryParseTaskId } from "../../domain/task-id.js";
import { SERVICE_LIST, SERVICES } from "../../engine/store/layout.js";
import { SERVICE_ATTRIBUTE } from "../../engine/telemetry.js";

export const SERVICE_COUNT_ATTRIBUTE = "corral.service.count";
export const SERVICES_ATTRIBUTE = "corral.services";
/** A span is not the place for a thousand names; the count stays exact. */
export const MAX_LISTED_SERVICES = 32;

/** The attributes naming `services` (none for an empty set). */
export function serviceAttributes(services: ReadonlySet<string>): Attributes {
  if (services.size === 0) return {};
  if (services.size === 1) return { [SERVICE_ATTRIBUTE]: services.values().next().value! };
  const sorted = [...services].sort();
  return {
    [SERVICE_ATTRIBUTE]: sorted[0]!,
    [SERVICE_COUNT_ATTRIBUTE]: sorted.length,
    [SERVICES_ATTRIBUTE]: sorted.slice(0, MAX_LISTED_SERVICES),
  };
}

/**
 * The service a store path belongs to: `Services/<escaped>/…` and `ServiceList/<escaped>[/…]`
 * (store/layout.ts). Escaping turned `/` into `__` and names never contain `__`, so it is undone
 * exactly (a leading `/` of the name was dropped by the escaping and stays dropped). Paths of
 * the schema-1 (mono) layout name no service.
 */
export function serviceOfPath(path: string): string | undefined {
  const first = path.indexOf("/");
  if (first < 0) return undefined;
  const root = path.slice(0, first);
  if (root !== SERVICES && root !== SERVICE_LIST) return undefined;
  const end = path.indexOf("/", first + 1);
  const escaped = end < 0 ? path.slice(first + 1) : path.slice(first + 1, end);
  return escaped === "" ? undefined : escaped.replaceAll("__", "/");
}

export function servicesOfPaths(paths: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const path of paths) {
    const name = serviceOfPath(path);
    if (name !== undefined) out.add(name);
  }
  return out;
}

/**
 * The service a task ID names: its sanitized name (`/` shown as `.`, task-id.ts), which is the
 * name itself for every name without a folder. Legacy `name__uuid` IDs name none.
 */
export function serviceOfTaskId(taskId: string): string | undefined {
  return tryParseTaskId(taskId)?.service;
}

/**
 * The services an ACCEPT's operations concern: the `namespace` label of their reservations (the
 * service's own name), else the task IDs of their launches. Unlabelled (mono) reservations name none.
 */
export function servicesOfOperations(operations: readonly Operation[]): Set<string> {
  const out = new Set<string>();
  const byLabel = (resources: readonly Resource[] | undefined): void => {
    for (const r of resources ?? []) {
      const ns = reservationLabels(r)?.[LABEL_NAMESPACE];
      if (ns !== undefined) out.add(ns);
    }
  };
  const launched: string[] = [];
  for (const op of operations) {
    switch (op.type) {
      case "RESERVE":
      case "UNRESERVE":
        byLabel(op.resources);
        break;
      case "CREATE":
      case "DESTROY":
        byLabel(op.volumes);
        break;
      case "LAUNCH_GROUP":
        byLabel(op.executor.resources);
        for (const task of op.tasks) {
          byLabel(task.resources);
          launched.push(task.taskId);
        }
        break;
    }
  }
  if (out.size === 0) for (const id of launched) addTaskService(out, id);
  return out;
}

export function servicesOfTaskIds(taskIds: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const id of taskIds) addTaskService(out, id);
  return out;
}

function addTaskService(out: Set<string>, taskId: string): void {
  const name = serviceOfTaskId(taskId);
  if (name !== undefined) out.add(name);
}

/** The service(s) an admin request names: `name`, `names` or `serviceName` (call-observer.ts). */
export function servicesOfRequest(request: unknown): Set<string> {
  const out = new Set<string>();
  if (typeof request !== "object" || request === null) return out;
  const r = request as { name?: unknown; names?: unknown; serviceName?: unknown };
  for (const v of [r.name, r.serviceName]) if (typeof v === "string" && v !== "") out.add(v);
  if (Array.isArray(r.names)) for (const v of r.names as unknown[]) if (typeof v === "string" && v !== "") out.add(v);
  return out;
}
