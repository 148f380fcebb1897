/**
 * What is still free in one offer while steps are fitted into it. The offer is indexed once
 * (unreserved scalars, port ranges, reserved resources by resource_id) and shared by every
 * evaluation of the cycle; a pool is a cheap copy-on-write view that records what was taken,
 * so one offer is never over-committed and evaluations do not re-read its resources.
 */
import type { Offer, Range, Resource } from "../cluster.js";
import { LABEL_RESOURCE_ID } from "../cluster.js";

/** Scalar comparisons tolerate float drift (0.1 + 0.2 cpus). */
const EPSILON = 1e-6;

export function reservationLabels(r: Resource): Readonly<Record<string, string>> | undefined {
  const res = r.reservations;
  return res && res.length > 0 ? res[res.length - 1]?.labels : undefined;
}

interface OfferIndex {
  readonly scalars: ReadonlyMap<string, number>;
  readonly ports: readonly Range[];
  readonly reserved: ReadonlyMap<string, Resource>;
}

// Offers are immutable values, so the index can be cached by identity.
const indexes = new WeakMap<Offer, OfferIndex>();

function indexOffer(offer: Offer): OfferIndex {
  const cached = indexes.get(offer);
  if (cached) return cached;
  const scalars = new Map<string, number>();
  const ports: Range[] = [];
  const reserved = new Map<string, Resource>();
  for (const r of offer.resources) {
    if (r.reservations && r.reservations.length > 0) {
      const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
      if (id !== undefined) reserved.set(id, r);
    } else if (r.type === "SCALAR") {
      scalars.set(r.name, (scalars.get(r.name) ?? 0) + (r.scalar ?? 0));
    } else if (r.name === "ports") {
      ports.push(...(r.ranges ?? []));
    }
  }
  const index = { scalars, ports, reserved };
  indexes.set(offer, index);
  return index;
}

export class OfferPool {
  private constructor(
    readonly offer: Offer,
    private readonly index: OfferIndex,
    private readonly scalars: Map<string, number>,
    private ports: Range[],
    private readonly taken: Set<string>,
  ) {}

  static of(offer: Offer): OfferPool {
    const index = indexOffer(offer);
    return new OfferPool(offer, index, new Map(index.scalars), [...index.ports], new Set());
  }

  /** A copy to try a fit on; keep it on success, drop it on failure. */
  clone(): OfferPool {
    return new OfferPool(this.offer, this.index, new Map(this.scalars), [...this.ports], new Set(this.taken));
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
    this.ports = [...this.ports.slice(0, idx), ...split, ...this.ports.slice(idx + 1)];
    return chosen;
  }

  /** Takes the reserved resource carrying this resource_id. */
  takeReserved(resourceId: string): Resource | undefined {
    if (this.taken.has(resourceId)) return undefined;
    const r = this.index.reserved.get(resourceId);
    if (r) this.taken.add(resourceId);
    return r;
  }
}
