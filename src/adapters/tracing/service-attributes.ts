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
import { sanitizeServiceName } from "../../domain/names.js";
import { tryParseTaskId } from "../../domain/task-id.js";
import { BASELINES } from "../../engine/plan-event-writer.js";
import { SCHEMA1_LIST_NODES, SCHEMA1_SERVICE_NODES, SERVICE_LIST, SERVICES } from "../../engine/store/layout.js";
import { serviceSpanAttributes } from "../../engine/span-services.js";

export const SERVICES_ATTRIBUTE = "corral.services";
/** A span is not the place for a thousand names; the count stays exact. */
export const MAX_LISTED_SERVICES = 32;

/** The attributes naming `services` (none for an empty set): the engine's (span-services.ts) and the list. */
export function serviceAttributes(services: ReadonlySet<string>): Attributes {
  const named = serviceSpanAttributes(services);
  if (services.size <= 1) return named;
  return { ...named, [SERVICES_ATTRIBUTE]: [...services].sort().slice(0, MAX_LISTED_SERVICES) };
}

/** Roots whose next path segment is a service's escaped name (store/layout.ts, plan-event-writer.ts). */
const SERVICE_ROOTS = [`${SERVICES}/`, `${SERVICE_LIST}/`, `${BASELINES}/`];

/** Root nodes of the schema-1 (mono) layout that belong to its one service (store/layout.ts). */
const SCHEMA1_ROOTS: ReadonlySet<string> = new Set([...SCHEMA1_SERVICE_NODES, ...Object.values(SCHEMA1_LIST_NODES)]);

/**
 * The service a store path belongs to: `Services/<escaped>/…`, `ServiceList/<escaped>[/…]` and
 * its plan events' baseline `PlanEvents/Seen/<escaped>`. Escaping turned `/` into `__` and
 * names never contain `__`, so it is undone exactly (a leading `/` of the name was dropped by
 * the escaping and stays dropped). The schema-1 (mono) layout keeps its one service's nodes at
 * the root (`Tasks/…`, `ConfigTarget`, …): they are `monoService`'s, the framework's name
 * (layout.ts schema1Nodes). The event logs' entries name none (the name is in their value).
 */
export function serviceOfPath(path: string, monoService?: string): string | undefined {
  for (const root of SERVICE_ROOTS) {
    if (!path.startsWith(root)) continue;
    const end = path.indexOf("/", root.length);
    const escaped = end < 0 ? path.slice(root.length) : path.slice(root.length, end);
    return escaped === "" ? undefined : escaped.replaceAll("__", "/");
  }
  if (monoService === undefined) return undefined;
  const slash = path.indexOf("/");
  return SCHEMA1_ROOTS.has(slash < 0 ? path : path.slice(0, slash)) ? monoService : undefined;
}

export function servicesOfPaths(paths: Iterable<string>, monoService?: string): Set<string> {
  const out = new Set<string>();
  for (const path of paths) {
    const name = serviceOfPath(path, monoService);
    if (name !== undefined) out.add(name);
  }
  return out;
}

/**
 * Task IDs carry a service's sanitized name (`team/db` → `team.db`, task-id.ts), which cannot be
 * turned back; the names seen in store paths, reservation labels and requests can. Each name
 * seen is remembered by its sanitized form (the scheduler keeps those unique), so a task ID is
 * named as the service is; one never seen (no store read or write of it yet) keeps its
 * sanitized name, which is the name itself for every name without a folder.
 */
export class ServiceNames {
  private readonly bySanitized = new Map<string, string>();

  learn(names: Iterable<string>): void {
    for (const name of names) if (name.includes("/")) this.bySanitized.set(sanitizeServiceName(name), name);
  }

  ofTaskId(taskId: string): string | undefined {
    const sanitized = tryParseTaskId(taskId)?.service;
    return sanitized === undefined ? undefined : (this.bySanitized.get(sanitized) ?? sanitized);
  }

  ofTaskIds(taskIds: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const id of taskIds) {
      const name = this.ofTaskId(id);
      if (name !== undefined) out.add(name);
    }
    return out;
  }

  /**
   * The services an ACCEPT's operations concern: the `namespace` label of their reservations
   * (the service's own name), else the task IDs of their launches. Unlabelled (mono)
   * reservations name none.
   */
  ofOperations(operations: readonly Operation[]): Set<string> {
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
    if (out.size > 0) this.learn(out);
    return out.size > 0 ? out : this.ofTaskIds(launched);
  }
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
