/**
 * Resource arithmetic for the simulated cluster, Mesos-style: resources with the same name,
 * type, reservation stack (labels included) and disk info merge; any difference keeps them
 * apart (mesos-v1-api.md §9.1). Scalars are fixed-point to 0.001 like Mesos, so 0.1 + 0.2
 * cpus is exactly 0.3.
 *
 * Each distinct identity is a `Kind`: its canonical key and a deep-frozen shape, computed once
 * and shared by every bag that copies it (bag-to-bag operations never re-key, and bags built
 * with an `intern` bag reuse that bag's kinds), so an agent holds one copy per reservation.
 */
import type { Range, Resource } from "../../domain/cluster.js";
import { canonical, frozenCopy } from "./sim-json.js";

export { canonical, deepFreeze } from "./sim-json.js";

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Mesos keeps scalars in fixed point with three decimals. */
function fixed(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The identity of a resource without its amount; `reservations: []` counts as unreserved. */
type Shape = Pick<Resource, "name" | "type" | "reservations" | "disk">;

/** One identity: canonical key, frozen shape (sorted keys, like the key) and derived facts. */
export interface Kind {
  readonly key: string;
  readonly shape: Shape;
  readonly reserved: boolean;
  /** Role of the effective (last) reservation. */
  readonly role: string | undefined;
  /** The effective reservation is DYNAMIC (a STATIC pool refined by a framework counts). */
  readonly dynamic: boolean;
  readonly volumeId: string | undefined;
}

/** The shape of `r`, still holding the caller's objects. */
function rawShape(r: Resource): Shape {
  const shape: Mutable<Shape> = { name: r.name, type: r.type };
  if (r.reservations && r.reservations.length > 0) shape.reservations = r.reservations;
  if (r.disk) shape.disk = r.disk;
  return shape;
}

function newKind(key: string, raw: Shape): Kind {
  const shape = frozenCopy(raw) as Shape;
  return {
    key,
    shape,
    reserved: shape.reservations !== undefined,
    role: shape.reservations?.at(-1)?.role,
    dynamic: shape.reservations?.at(-1)?.type === "DYNAMIC",
    volumeId: shape.disk?.persistence?.id,
  };
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

function rangesMinus(have: readonly Range[], take: readonly Range[]): readonly Range[] {
  if (take.length === 0) return have;
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

const NO_RANGES: readonly Range[] = Object.freeze([]);

/** An amount of one kind. `ranges` arrays are replaced, never mutated, so copies share them. */
interface Entry {
  readonly kind: Kind;
  scalar: number;
  ranges: readonly Range[];
}

function isEmpty(kind: Kind, scalar: number, ranges: readonly Range[]): boolean {
  return kind.shape.type === "SCALAR" ? scalar <= 0 : ranges.length === 0;
}

/** Unreserved before reserved, then by name, then by shape: offers list resources in a stable order. */
function order(a: Entry, b: Entry): number {
  const ka = a.kind;
  const kb = b.kind;
  if (ka.reserved !== kb.reserved) return ka.reserved ? 1 : -1;
  const na = ka.shape.name;
  const nb = kb.shape.name;
  if (na < nb) return -1;
  if (na > nb) return 1;
  return ka.key < kb.key ? -1 : ka.key > kb.key ? 1 : 0;
}

/** Resources resolved to kinds, amounts as given: adding them adds one resource at a time. */
export class ResourceList {
  private constructor(readonly items: readonly Entry[]) {}

  /** Kinds already in `intern` (or earlier in the list) are reused rather than rebuilt. */
  static parse(resources: readonly Resource[], intern?: ResourceBag): ResourceList {
    const seen = new Map<string, Kind>();
    const items = resources.map((r): Entry => {
      const raw = rawShape(r);
      const key = canonical(raw);
      let kind = seen.get(key) ?? intern?.kindOf(key);
      if (!kind) seen.set(key, (kind = newKind(key, raw)));
      return { kind, scalar: r.scalar ?? 0, ranges: r.ranges ?? NO_RANGES };
    });
    return new ResourceList(items);
  }

  bag(): ResourceBag {
    return new ResourceBag().addAll(this);
  }

  kinds(): Kind[] {
    return this.items.map((e) => e.kind);
  }
}

/** A multiset of resources supporting add, contains and subtract. Inputs are never aliased. */
export class ResourceBag {
  private readonly entries = new Map<string, Entry>();

  /** A bag of `resources`; kinds already in `intern` are reused rather than rebuilt. */
  static of(resources: readonly Resource[], intern?: ResourceBag): ResourceBag {
    return ResourceList.parse(resources, intern).bag();
  }

  clone(): ResourceBag {
    return this.filter(() => true);
  }

  /** A copy holding only the entries whose kind passes `keep`. */
  filter(keep: (kind: Kind) => boolean): ResourceBag {
    const copy = new ResourceBag();
    for (const [k, e] of this.entries) {
      if (keep(e.kind)) copy.entries.set(k, { kind: e.kind, scalar: e.scalar, ranges: e.ranges });
    }
    return copy;
  }

  isEmpty(): boolean {
    return this.entries.size === 0;
  }

  kindOf(key: string): Kind | undefined {
    return this.entries.get(key)?.kind;
  }

  kinds(): Kind[] {
    return [...this.entries.values()].map((e) => e.kind);
  }

  /** Adds a bag entry by entry, or resources one at a time (each rounded as it is added). */
  addAll(resources: readonly Resource[] | ResourceList | ResourceBag): this {
    const items =
      resources instanceof ResourceBag
        ? resources.entries.values()
        : (resources instanceof ResourceList ? resources : ResourceList.parse(resources, this))
            .items;
    for (const e of items) this.merge(e.kind, e.scalar, e.ranges);
    return this;
  }

  containsAll(resources: readonly Resource[] | ResourceBag): boolean {
    const need = resources instanceof ResourceBag ? resources : ResourceBag.of(resources, this);
    for (const [key, n] of need.entries) {
      const h = this.entries.get(key);
      if (!h || !covers(h, n.scalar, n.ranges)) return false;
    }
    return true;
  }

  /** Removes `resources`; throws when they are not all contained (an accounting bug). */
  subtractAll(resources: readonly Resource[] | ResourceBag): this {
    const take = resources instanceof ResourceBag ? resources : ResourceBag.of(resources, this);
    if (!this.containsAll(take)) {
      throw new Error(
        `resource accounting: cannot take ${take.describe()} from ${this.describe()}`,
      );
    }
    for (const [key, t] of take.entries) {
      const h = this.entries.get(key)!;
      h.scalar = fixed(h.scalar - t.scalar);
      h.ranges = rangesMinus(h.ranges, t.ranges);
      if (isEmpty(h.kind, h.scalar, h.ranges)) this.entries.delete(key);
    }
    return this;
  }

  /**
   * Sets the entry of each of `kinds` to what `total.clone().subtractAll(m1)…subtractAll(mN)`
   * holds for it, with the same arithmetic: an incremental `total − used − offered`.
   */
  recompute(kinds: Iterable<Kind>, total: ResourceBag, ...minus: ResourceBag[]): void {
    for (const { key } of kinds) {
      const t = total.entries.get(key);
      let left: Entry | undefined = t && { kind: t.kind, scalar: t.scalar, ranges: t.ranges };
      for (const m of minus) {
        const e = m.entries.get(key);
        if (!e) continue;
        if (!left || !covers(left, e.scalar, e.ranges)) {
          throw new Error(`resource accounting: cannot take ${m.describe()} from ${total.describe()}`);
        }
        left.scalar = fixed(left.scalar - e.scalar);
        left.ranges = rangesMinus(left.ranges, e.ranges);
        if (isEmpty(left.kind, left.scalar, left.ranges)) left = undefined;
      }
      if (left) this.entries.set(key, left);
      else this.entries.delete(key);
    }
  }

  /** Plain `Resource` objects in a stable order (unreserved first); only those of kinds passing `keep`. */
  toArray(keep?: (kind: Kind) => boolean): Resource[] {
    const list: Entry[] = [];
    for (const e of this.entries.values()) if (!keep || keep(e.kind)) list.push(e);
    return list
      .sort(order)
      .map((e) =>
        e.kind.shape.type === "SCALAR"
          ? { ...e.kind.shape, scalar: e.scalar }
          : { ...e.kind.shape, ranges: e.ranges.map((r) => ({ ...r })) },
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

  private merge(kind: Kind, scalar: number, ranges: readonly Range[]): void {
    const prev = this.entries.get(kind.key);
    const e: Entry = prev ?? { kind, scalar: 0, ranges: NO_RANGES };
    if (kind.shape.type === "SCALAR") e.scalar = fixed(e.scalar + scalar);
    else e.ranges = normalize([...e.ranges, ...ranges]);
    if (isEmpty(kind, e.scalar, e.ranges)) this.entries.delete(kind.key);
    else if (!prev) this.entries.set(kind.key, e);
  }
}

/** Whether `have` holds at least `scalar` / `ranges` (written as the negation, so NaN compares as before). */
function covers(have: Entry, scalar: number, ranges: readonly Range[]): boolean {
  return !(have.kind.shape.type === "SCALAR"
    ? have.scalar < scalar
    : !rangesContain(have.ranges, ranges));
}
