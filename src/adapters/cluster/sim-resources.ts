/**
 * Resource arithmetic for the simulated cluster, Mesos-style: resources with the same name,
 * type, reservation stack (labels included) and disk info merge; any difference keeps them
 * apart (mesos-v1-api.md §9.1). Scalars are fixed-point to 0.001 like Mesos, so 0.1 + 0.2
 * cpus is exactly 0.3.
 */
import type { Range, Resource } from "../../domain/cluster.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Mesos keeps scalars in fixed point with three decimals. */
function fixed(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Stable JSON: object keys sorted, undefined fields dropped. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v)
            .filter(([, x]) => x !== undefined)
            .sort(([a], [b]) => (a < b ? -1 : 1)),
        )
      : v,
  );
}

/** Freezes `value` and everything reachable from it, so callers cannot mutate shared state. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** The identity of a resource without its amount; `reservations: []` counts as unreserved. */
type Shape = Pick<Resource, "name" | "type" | "reservations" | "disk">;

function shapeOf(r: Resource): Shape {
  const shape: Mutable<Shape> = { name: r.name, type: r.type };
  if (r.reservations && r.reservations.length > 0) shape.reservations = r.reservations;
  if (r.disk) shape.disk = r.disk;
  return deepFreeze(JSON.parse(canonical(shape)) as Shape);
}

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

function normalize(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a.begin - b.begin);
  const out: { begin: number; end: number }[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.begin <= last.end + 1) last.end = Math.max(last.end, r.end);
    else out.push({ begin: r.begin, end: r.end });
  }
  return out;
}

function rangesContain(have: readonly Range[], need: readonly Range[]): boolean {
  return need.every((n) => have.some((h) => h.begin <= n.begin && n.end <= h.end));
}

function rangesMinus(have: readonly Range[], take: readonly Range[]): Range[] {
  let out = [...have];
  for (const t of take) {
    out = out.flatMap((h) => {
      if (t.end < h.begin || t.begin > h.end) return [h];
      const parts: Range[] = [];
      if (h.begin < t.begin) parts.push({ begin: h.begin, end: t.begin - 1 });
      if (t.end < h.end) parts.push({ begin: t.end + 1, end: h.end });
      return parts;
    });
  }
  return out;
}

interface Entry {
  readonly shape: Shape;
  scalar: number;
  ranges: Range[];
}

function isEmptyEntry(e: Entry): boolean {
  return e.shape.type === "SCALAR" ? e.scalar <= 0 : e.ranges.length === 0;
}

/** Unreserved before reserved, then by name, then by shape: offers list resources in a stable order. */
function order(a: Entry, b: Entry): number {
  const ra = a.shape.reservations ? 1 : 0;
  const rb = b.shape.reservations ? 1 : 0;
  if (ra !== rb) return ra - rb;
  const ka = canonical(a.shape);
  const kb = canonical(b.shape);
  return a.shape.name < b.shape.name
    ? -1
    : a.shape.name > b.shape.name
      ? 1
      : ka < kb
        ? -1
        : ka > kb
          ? 1
          : 0;
}

/** A multiset of resources supporting add, contains and subtract. Inputs are never aliased. */
export class ResourceBag {
  private readonly entries = new Map<string, Entry>();

  static of(resources: readonly Resource[]): ResourceBag {
    return new ResourceBag().addAll(resources);
  }

  clone(): ResourceBag {
    const copy = new ResourceBag();
    for (const [k, e] of this.entries)
      copy.entries.set(k, { shape: e.shape, scalar: e.scalar, ranges: [...e.ranges] });
    return copy;
  }

  isEmpty(): boolean {
    return this.entries.size === 0;
  }

  addAll(resources: readonly Resource[] | ResourceBag): this {
    for (const r of resources instanceof ResourceBag ? resources.toArray() : resources) this.add(r);
    return this;
  }

  containsAll(resources: readonly Resource[] | ResourceBag): boolean {
    const need = resources instanceof ResourceBag ? resources : ResourceBag.of(resources);
    for (const [key, n] of need.entries) {
      const h = this.entries.get(key);
      if (!h) return false;
      if (n.shape.type === "SCALAR" ? h.scalar < n.scalar : !rangesContain(h.ranges, n.ranges)) {
        return false;
      }
    }
    return true;
  }

  /** Removes `resources`; throws when they are not all contained (an accounting bug). */
  subtractAll(resources: readonly Resource[] | ResourceBag): this {
    const take = resources instanceof ResourceBag ? resources : ResourceBag.of(resources);
    if (!this.containsAll(take)) {
      throw new Error(
        `resource accounting: cannot take ${take.describe()} from ${this.describe()}`,
      );
    }
    for (const [key, t] of take.entries) {
      const h = this.entries.get(key)!;
      h.scalar = fixed(h.scalar - t.scalar);
      h.ranges = rangesMinus(h.ranges, t.ranges);
      if (isEmptyEntry(h)) this.entries.delete(key);
    }
    return this;
  }

  /** Plain `Resource` objects in a stable order (unreserved first). */
  toArray(): Resource[] {
    return [...this.entries.values()]
      .sort(order)
      .map((e) =>
        e.shape.type === "SCALAR"
          ? { ...e.shape, scalar: e.scalar }
          : { ...e.shape, ranges: e.ranges.map((r) => ({ ...r })) },
      );
  }

  /** Human-readable summary for error messages, e.g. `cpus:1.5 ports:[31000-31002] disk(r-1):512`. */
  describe(): string {
    if (this.isEmpty()) return "(nothing)";
    return this.toArray()
      .map((r) => {
        const id = r.reservations?.at(-1)?.labels["resource_id"];
        const tag = `${r.name}${r.reservations ? `(${id ?? r.reservations.at(-1)?.role})` : ""}${r.disk?.persistence ? `[vol ${r.disk.persistence.id}]` : ""}`;
        return `${tag}:${r.type === "SCALAR" ? String(r.scalar) : `[${(r.ranges ?? []).map((x) => `${x.begin}-${x.end}`).join(",")}]`}`;
      })
      .join(" ");
  }

  private add(r: Resource): void {
    const shape = shapeOf(r);
    const key = canonical(shape);
    const e = this.entries.get(key) ?? { shape, scalar: 0, ranges: [] };
    if (shape.type === "SCALAR") e.scalar = fixed(e.scalar + (r.scalar ?? 0));
    else e.ranges = normalize([...e.ranges, ...(r.ranges ?? [])]);
    if (isEmptyEntry(e)) this.entries.delete(key);
    else this.entries.set(key, e);
  }
}
