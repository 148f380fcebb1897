/**
 * What is still free in one offer while a step is being fitted into it: unreserved scalars and
 * port ranges, plus the reserved resources by their resource_id. Mutated as resources are
 * taken, so one offer is never over-committed by the tasks of one evaluation.
 */
import type { Range, Resource } from "../cluster.js";
import { LABEL_RESOURCE_ID } from "../cluster.js";

/** Scalar comparisons tolerate float drift (0.1 + 0.2 cpus). */
const EPSILON = 1e-6;

export function reservationLabels(r: Resource): Readonly<Record<string, string>> | undefined {
  const res = r.reservations;
  return res && res.length > 0 ? res[res.length - 1]?.labels : undefined;
}

export class OfferPool {
  private readonly scalars = new Map<string, number>();
  private ports: Range[] = [];
  private readonly reserved = new Map<string, Resource>();

  constructor(resources: readonly Resource[]) {
    for (const r of resources) {
      const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
      if (r.reservations && r.reservations.length > 0) {
        if (id !== undefined) this.reserved.set(id, r);
        continue;
      }
      if (r.type === "SCALAR") this.scalars.set(r.name, (this.scalars.get(r.name) ?? 0) + (r.scalar ?? 0));
      else if (r.name === "ports") this.ports.push(...(r.ranges ?? []));
    }
  }

  available(name: string): number {
    return this.scalars.get(name) ?? 0;
  }

  takeScalar(name: string, amount: number): boolean {
    const have = this.available(name);
    if (have + EPSILON < amount) return false;
    this.scalars.set(name, have - amount);
    return true;
  }

  /** Takes `port`, or the lowest free port when `port` is 0. Undefined when not offered. */
  takePort(port: number): number | undefined {
    const idx = this.ports.findIndex((r) => (port === 0 ? r.end >= r.begin : port >= r.begin && port <= r.end));
    const range = this.ports[idx];
    if (!range) return undefined;
    const chosen = port === 0 ? range.begin : port;
    const split: Range[] = [];
    if (chosen > range.begin) split.push({ begin: range.begin, end: chosen - 1 });
    if (chosen < range.end) split.push({ begin: chosen + 1, end: range.end });
    this.ports.splice(idx, 1, ...split);
    return chosen;
  }

  /** What is left, as offer resources: lets a later step (or service) use the same offer. */
  remaining(): Resource[] {
    const out: Resource[] = [];
    for (const [name, scalar] of this.scalars) {
      if (scalar > EPSILON) out.push({ name, type: "SCALAR", scalar: Math.round(scalar * 1e6) / 1e6 });
    }
    if (this.ports.length > 0) out.push({ name: "ports", type: "RANGES", ranges: [...this.ports] });
    out.push(...this.reserved.values());
    return out;
  }

  /** Takes the reserved resource carrying this resource_id. */
  takeReserved(resourceId: string): Resource | undefined {
    const r = this.reserved.get(resourceId);
    if (r) this.reserved.delete(resourceId);
    return r;
  }
}
