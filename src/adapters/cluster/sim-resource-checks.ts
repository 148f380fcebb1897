/**
 * Per-resource checks and transforms of the simulated cluster's offer operations: whether a
 * resource is well-formed, and the source shape of a RESERVE / CREATE or the result of an
 * UNRESERVE / DESTROY (mesos-v1-api.md §10).
 */
import type { Resource } from "../../domain/cluster.js";
import { frameworkRoles, type SimFramework } from "./sim-agent-spec.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Why `r` is not a well-formed resource, or undefined when it is. */
export function invalidResource(r: Resource): string | undefined {
  if (!r.name) return "resource without a name";
  if (r.type === "SCALAR") {
    const s = r.scalar;
    return s === undefined || !Number.isFinite(s) || s < 0
      ? `${r.name}: scalar must be a number >= 0`
      : undefined;
  }
  if (r.type === "RANGES") {
    const bad = (r.ranges ?? []).some(
      (x) => !Number.isInteger(x.begin) || !Number.isInteger(x.end) || x.begin > x.end,
    );
    return bad ? `${r.name}: ranges must be integer [begin, end] with begin <= end` : undefined;
  }
  return `${String(r.name)}: unsupported type ${String(r.type)}`;
}

/** Drops the last reservation (UNRESERVE, or the source of a RESERVE). */
export function popReservation(r: Resource): Resource {
  const out: Mutable<Resource> = { ...r };
  const rest = (r.reservations ?? []).slice(0, -1);
  delete out.reservations;
  if (rest.length > 0) out.reservations = rest;
  return out;
}

/** The reserved disk a volume is created from (CREATE) or returns to (DESTROY). */
export function stripDisk(r: Resource): Resource {
  const out: Mutable<Resource> = { ...r };
  delete out.disk;
  return out;
}

/** The first reason one of `resources` is malformed, if any. */
export function firstInvalid(resources: readonly Resource[]): string | undefined {
  for (const r of resources) {
    const bad = invalidResource(r);
    if (bad) return bad;
  }
  return undefined;
}

/** Why RESERVE of `r` is refused (mesos-v1-api.md §9.1, §10), or undefined. */
export function invalidReserve(r: Resource, fw: SimFramework, allocationRole: string | undefined): string | undefined {
  const stack = r.reservations ?? [];
  const last = stack.at(-1);
  if (!last) return `RESERVE of unreserved ${r.name}: push a reservation`;
  if (last.type !== "DYNAMIC") return `RESERVE of ${r.name}: the pushed reservation must be DYNAMIC`;
  const roles = frameworkRoles(fw);
  if (!roles.includes(last.role)) {
    return roles.length === 1
      ? `RESERVE of ${r.name}: role '${last.role}' is not the framework role '${fw.role}'`
      : `RESERVE of ${r.name}: role '${last.role}' is not one of the framework roles ${roles.map((x) => `'${x}'`).join(", ")}`;
  }
  if (allocationRole !== undefined && last.role !== allocationRole) {
    return `RESERVE of ${r.name}: role '${last.role}' is not the offer's allocation role '${allocationRole}'`;
  }
  if (fw.principal && last.principal !== fw.principal) {
    return `RESERVE of ${r.name}: principal '${String(last.principal)}' is not the framework principal '${fw.principal}'`;
  }
  const below = stack.at(-2);
  if (below && !last.role.startsWith(`${below.role}/`)) {
    return `RESERVE of ${r.name}: role '${last.role}' does not refine the reservation to '${below.role}' (a refinement's role must be below it, '${below.role}/…')`;
  }
  if (stack.slice(1).some((x) => x.type === "STATIC")) {
    return `RESERVE of ${r.name}: only the first reservation of a stack may be STATIC`;
  }
  if (r.disk?.persistence) return `RESERVE of a persistent volume: reserve the disk, then CREATE`;
  return undefined;
}
