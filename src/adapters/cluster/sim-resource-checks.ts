/**
 * Per-resource checks and transforms of the simulated cluster's offer operations: whether a
 * resource is well-formed, and the source shape of a RESERVE / CREATE or the result of an
 * UNRESERVE / DESTROY (mesos-v1-api.md §10).
 */
import type { Resource } from "../../domain/cluster.js";

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
