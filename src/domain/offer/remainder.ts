/**
 * What an offer still holds after one service's operations on it, so the next service in the
 * same cycle can use the rest: many services launch from one offer in one ACCEPT (Mesos applies
 * its operations in order). The reference gives each offer to one service per cycle, which on a
 * one-agent cluster launches one service per offer round trip.
 */
import type { Offer, Operation, Range, Resource } from "../cluster.js";
import { LABEL_RESOURCE_ID } from "../cluster.js";
import { reservationLabels, sourceKey } from "./pool.js";
import { round } from "./fit-resource-set.js";

const EPSILON = 1e-6;

/**
 * `offer` less the free resources `operations` take (RESERVE, and LAUNCH_GROUP's executor — once
 * per executor id — and task resources; unreserved, or statically reserved to a role a
 * pre-reserved pod draws on) and less the reserved resources they use or change.
 * What an UNRESERVE or DESTROY frees is not
 * counted: it comes back in a later offer. Undefined when nothing is left.
 */
export function offerRemainder(offer: Offer, operations: readonly Operation[]): Offer | undefined {
  // By source (sourceKey: unreserved, or one role's static pool), then name.
  const scalars = new Map<string, number>();
  const ports = new Map<string, Range[]>();
  const touched = new Set<string>();
  const take = (r: Resource): void => {
    const key = sourceKey(r);
    if (key === undefined) {
      const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
      if (id !== undefined) touched.add(id);
      return;
    }
    if (r.type === "SCALAR") scalars.set(`${key}\u0000${r.name}`, (scalars.get(`${key}\u0000${r.name}`) ?? 0) + (r.scalar ?? 0));
    else if (r.name === "ports") ports.set(key, [...(ports.get(key) ?? []), ...(r.ranges ?? [])]);
  };
  const executors = new Set<string>();
  for (const op of operations) {
    if (op.type === "RESERVE") {
      // Reserved from what the last reservation was pushed on: that is the service's now.
      for (const r of op.resources) take({ ...r, reservations: (r.reservations ?? []).slice(0, -1) });
    } else if (op.type === "LAUNCH_GROUP") {
      if (!executors.has(op.executor.executorId)) for (const r of op.executor.resources) take(r);
      executors.add(op.executor.executorId);
      for (const t of op.tasks) for (const r of t.resources) take(r);
    } else {
      for (const r of op.type === "CREATE" || op.type === "DESTROY" ? op.volumes : op.resources) take(r);
    }
  }
  const resources: Resource[] = [];
  for (const r of offer.resources) {
    const key = sourceKey(r);
    if (key === undefined || r.disk?.persistence) {
      const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
      if (id === undefined || !touched.has(id)) resources.push(r);
      continue;
    }
    if (r.type === "SCALAR") {
      const k = `${key}\u0000${r.name}`;
      const wanted = scalars.get(k) ?? 0;
      const used = Math.min(wanted, r.scalar ?? 0);
      scalars.set(k, wanted - used);
      const left = (r.scalar ?? 0) - used;
      if (left > EPSILON) {
        resources.push({ ...r, scalar: round(left) });
      }
    } else if (r.name === "ports") {
      const left = subtractRanges(r.ranges ?? [], ports.get(key) ?? []);
      if (left.length > 0) {
        resources.push({ ...r, ranges: left });
      }
    } else {
      resources.push(r);
    }
  }
  return resources.length === 0 ? undefined : { ...offer, resources };
}

/** `from` without the ports in `minus` (both inclusive ranges). */
function subtractRanges(from: readonly Range[], minus: readonly Range[]): Range[] {
  let out = [...from];
  for (const m of minus) {
    const next: Range[] = [];
    for (const r of out) {
      if (m.end < r.begin || m.begin > r.end) {
        next.push(r);
        continue;
      }
      if (m.begin > r.begin) next.push({ begin: r.begin, end: m.begin - 1 });
      if (m.end < r.end) next.push({ begin: m.end + 1, end: r.end });
    }
    out = next;
  }
  return out;
}
