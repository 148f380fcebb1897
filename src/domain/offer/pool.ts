/**
 * What is still free in one offer while steps are fitted into it. The offer is indexed once
 * (per source: unreserved scalars and port ranges, and the same per role for resources
 * statically reserved to it; reserved resources by resource_id) and shared by every evaluation
 * of the cycle; a pool is a cheap copy-on-write view that records what was taken, so one offer
 * is never over-committed and evaluations do not re-read its resources.
 */
import type { Offer, Range, Reservation, Resource } from "../cluster.js";
import { LABEL_RESOURCE_ID } from "../cluster.js";
import type { PortRangeSpec } from "../spec/types.js";

/** Scalar comparisons tolerate float drift (0.1 + 0.2 cpus). */
const EPSILON = 1e-6;

/** Where a resource is taken from: the unreserved pool, or a role's statically reserved one. */
export type Source = { readonly kind: "unreserved" } | { readonly kind: "static"; readonly role: string };

export const UNRESERVED: Source = { kind: "unreserved" };

const NO_PORTS: ReadonlySet<number> = new Set();

export function sourceOf(preReservedRole: string | undefined): Source {
  return preReservedRole === undefined ? UNRESERVED : { kind: "static", role: preReservedRole };
}

function keyOf(source: Source): string {
  return source.kind === "unreserved" ? "" : `static:${source.role}`;
}

export function reservationLabels(r: Resource): Readonly<Record<string, string>> | undefined {
  const res = r.reservations;
  return res && res.length > 0 ? res[res.length - 1]?.labels : undefined;
}

/** The role a resource is statically reserved to and nothing more (no refinement); undefined otherwise. */
export function staticRole(r: Resource): string | undefined {
  const res = r.reservations;
  return res?.length === 1 && res[0]?.type === "STATIC" ? res[0].role : undefined;
}

/** The pool key a resource's free amount is counted under; undefined for a dynamic reservation. */
export function sourceKey(r: Resource): string | undefined {
  if (!r.reservations || r.reservations.length === 0) return keyOf(UNRESERVED);
  const role = staticRole(r);
  return role === undefined ? undefined : keyOf({ kind: "static", role });
}

interface OfferIndex {
  /** By source key, then resource name. */
  readonly scalars: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly ports: ReadonlyMap<string, readonly Range[]>;
  readonly reserved: ReadonlyMap<string, Resource>;
  /** The static reservation stack as offered, by role: what a refined reservation is pushed on. */
  readonly statics: ReadonlyMap<string, readonly Reservation[]>;
}

// Offers are immutable values, so the index can be cached by identity.
const indexes = new WeakMap<Offer, OfferIndex>();

function indexOffer(offer: Offer): OfferIndex {
  const cached = indexes.get(offer);
  if (cached) return cached;
  const scalars = new Map<string, Map<string, number>>();
  const ports = new Map<string, Range[]>();
  const reserved = new Map<string, Resource>();
  const statics = new Map<string, readonly Reservation[]>();
  for (const r of offer.resources) {
    const key = sourceKey(r);
    if (key === undefined) {
      const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
      if (id !== undefined) reserved.set(id, r);
      continue;
    }
    // A volume on a static reservation is someone's data, never free space.
    if (r.disk?.persistence) continue;
    const role = staticRole(r);
    if (role !== undefined && !statics.has(role)) statics.set(role, r.reservations!);
    if (r.type === "SCALAR") {
      const byName = scalars.get(key) ?? new Map<string, number>();
      byName.set(r.name, (byName.get(r.name) ?? 0) + (r.scalar ?? 0));
      scalars.set(key, byName);
    } else if (r.name === "ports") {
      ports.set(key, [...(ports.get(key) ?? []), ...(r.ranges ?? [])]);
    }
  }
  const index = { scalars, ports, reserved, statics };
  indexes.set(offer, index);
  return index;
}

/** The lowest port of `free` that lies in one of `within` (anywhere, when undefined) and not in `avoid`. */
function lowestFree(free: readonly Range[], within: readonly PortRangeSpec[] | undefined, avoid: ReadonlySet<number>): number | undefined {
  let best: number | undefined;
  for (const f of free) {
    for (const w of within ?? [f]) {
      const end = Math.min(f.end, w.end);
      let p = Math.max(f.begin, w.begin);
      while (p <= end && avoid.has(p)) p++;
      if (p <= end && (best === undefined || p < best)) best = p;
    }
  }
  return best;
}

export class OfferPool {
  private constructor(
    readonly offer: Offer,
    private readonly index: OfferIndex,
    private readonly scalars: Map<string, ReadonlyMap<string, number>>,
    private readonly ports: Map<string, readonly Range[]>,
    private readonly taken: Set<string>,
  ) {}

  static of(offer: Offer): OfferPool {
    const index = indexOffer(offer);
    return new OfferPool(offer, index, new Map(index.scalars), new Map(index.ports), new Set());
  }

  /** A copy to try a fit on; keep it on success, drop it on failure. */
  clone(): OfferPool {
    // Inner maps and port lists are replaced on write, never changed: copying the outer maps is enough.
    return new OfferPool(this.offer, this.index, new Map(this.scalars), new Map(this.ports), new Set(this.taken));
  }

  available(name: string, from: Source = UNRESERVED): number {
    return this.scalars.get(keyOf(from))?.get(name) ?? 0;
  }

  /** Whether the offer holds anything statically reserved to `role` (used or not). */
  offersStatic(role: string): boolean {
    return this.index.statics.has(role);
  }

  /** The reservation stack of `role`'s static resources as offered (`[{STATIC, role}]`). */
  staticStack(role: string): readonly Reservation[] {
    return this.index.statics.get(role) ?? [{ type: "STATIC", role, labels: {} }];
  }

  takeScalar(name: string, amount: number, from: Source = UNRESERVED): boolean {
    const have = this.available(name, from);
    if (have + EPSILON < amount) return false;
    const key = keyOf(from);
    const byName = new Map(this.scalars.get(key));
    byName.set(name, have - amount);
    this.scalars.set(key, byName);
    return true;
  }

  /**
   * Takes `port`, or when `port` is 0 the lowest free port (within `ranges` when given, and not
   * one of `avoid`: the fixed ports the same pod asks for). A fixed port ignores `ranges`.
   * Undefined when not offered.
   */
  takePort(port: number, ranges?: readonly PortRangeSpec[], from: Source = UNRESERVED, avoid: ReadonlySet<number> = NO_PORTS): number | undefined {
    const key = keyOf(from);
    const free = this.ports.get(key) ?? [];
    const chosen = port !== 0 ? port : lowestFree(free, ranges && ranges.length > 0 ? ranges : undefined, avoid);
    if (chosen === undefined) return undefined;
    const idx = free.findIndex((r) => chosen >= r.begin && chosen <= r.end);
    const range = free[idx];
    if (!range) return undefined;
    const split: Range[] = [];
    if (chosen > range.begin) split.push({ begin: range.begin, end: chosen - 1 });
    if (chosen < range.end) split.push({ begin: chosen + 1, end: range.end });
    this.ports.set(key, [...free.slice(0, idx), ...split, ...free.slice(idx + 1)]);
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

