/**
 * The mono scheduler's view of the store: the engine writes its one service at the schema-2
 * paths (`Services/<escaped>/…`, `ServiceList/<escaped>/…`) and this view keeps them at the
 * schema-1 places, directly under the root (ConfigTarget, Configurations, Properties, Tasks, and
 * Corral's own nodes of that service, layout.ts `SCHEMA1_*`). Every other path passes through.
 *
 * `Services/<escaped>` and `ServiceList/<escaped>` themselves have no node of their own here:
 * they exist while one of their mapped nodes does, and deleting them (or `Services` /
 * `ServiceList`, the whole-scheduler uninstall) deletes those root nodes, nothing else.
 */
import { SchedulerError } from "../../domain/errors.js";
import { escapeServiceName } from "../../domain/names.js";
import type { Persister, PersisterOp, Versioned } from "../ports.js";
import { SCHEMA1_LIST_NODES, SCHEMA1_SERVICE_NODES, SERVICES, SERVICE_LIST } from "./layout.js";
import { getMany } from "./read-many.js";

/** Where a schema-2 path lives in the schema-1 store. */
type Place =
  /** An ordinary node at this inner path. */
  | { readonly kind: "node"; readonly path: string }
  /** `Services/<escaped>` or `ServiceList/<escaped>`: the root nodes standing for its children, by child name. */
  | { readonly kind: "group"; readonly members: ReadonlyMap<string, string> }
  /** `Services` or `ServiceList`: the inner node, plus the one service's group. */
  | { readonly kind: "top"; readonly path: string; readonly group: ReadonlyMap<string, string> };

const EMPTY = new Uint8Array(0);

export class MonoLayoutPersister implements Persister {
  readonly getMany?: (paths: readonly string[]) => Promise<(Versioned | undefined)[]>;
  /** The store's: the view's paths (`Services/<escaped>/…`) are longer than what it writes, so ops counted here fit. */
  readonly maxMultiBytes?: number;
  private readonly escaped: string;
  private readonly groups: ReadonlyMap<string, ReadonlyMap<string, string>>;

  constructor(
    private readonly inner: Persister,
    /** The framework name: the mono service's name. */
    readonly frameworkName: string,
  ) {
    this.escaped = escapeServiceName(frameworkName);
    this.groups = new Map([
      [SERVICES, new Map(SCHEMA1_SERVICE_NODES.map((n) => [n, n]))],
      [SERVICE_LIST, new Map(Object.entries(SCHEMA1_LIST_NODES))],
    ]);
    if (inner.getMany) this.getMany = (paths) => this.readMany(paths);
    if (inner.maxMultiBytes !== undefined) this.maxMultiBytes = inner.maxMultiBytes;
  }

  async get(path: string): Promise<Versioned | undefined> {
    return (await this.readMany([path]))[0];
  }

  async children(path: string): Promise<string[]> {
    const place = this.place(path);
    switch (place.kind) {
      case "node":
        return this.inner.children(place.path);
      case "group":
        return this.present(place.members);
      case "top": {
        // The inner node of that name is never read through this view (its paths map to the root): it does not count.
        const [names, mine] = await Promise.all([this.inner.children(place.path), this.present(place.group)]);
        const others = names.filter((n) => n !== this.escaped);
        return mine.length > 0 ? [...others, this.escaped].sort() : others;
      }
    }
  }

  async multi(ops: readonly PersisterOp[]): Promise<void> {
    await this.inner.multi(ops.flatMap((op) => this.mapOp(op)));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /**
   * Values in input order; a group reads as an empty node while one of its members exists, and
   * so does a missing `Services` / `ServiceList` (schema 1 has neither) then: as it lists them.
   */
  private async readMany(paths: readonly string[]): Promise<(Versioned | undefined)[]> {
    const places = paths.map((p) => this.place(p));
    const nodes = places.map((pl) => (pl.kind === "group" ? undefined : pl.path));
    const direct = nodes.filter((p): p is string => p !== undefined);
    const values = await getMany(this.inner, direct);
    let next = 0;
    const stands = async (members: ReadonlyMap<string, string>): Promise<Versioned | undefined> =>
      (await this.present(members)).length > 0 ? { data: EMPTY, version: 0 } : undefined;
    return Promise.all(
      places.map(async (pl) => {
        if (pl.kind === "group") return stands(pl.members);
        const value = values[next++];
        return value === undefined && pl.kind === "top" ? stands(pl.group) : value;
      }),
    );
  }

  /** The child names of a group whose root node exists, sorted. */
  private async present(members: ReadonlyMap<string, string>): Promise<string[]> {
    const entries = [...members];
    const values = await getMany(this.inner, entries.map(([, root]) => root));
    return entries.filter((_, i) => values[i] !== undefined).map(([child]) => child).sort();
  }

  private mapOp(op: PersisterOp): PersisterOp[] {
    const place = this.place(op.path);
    if (place.kind === "node") return [{ ...op, path: place.path }];
    if (op.kind !== "delete") {
      throw new SchedulerError("internal", `the mono layout cannot ${op.kind} '${op.path}': it has no node of its own there`);
    }
    const group = place.kind === "group" ? place.members : place.group;
    const deletes = [...group.values()].map((root): PersisterOp => ({ kind: "delete", path: root }));
    return place.kind === "top" ? [...deletes, { kind: "delete", path: place.path }] : deletes;
  }

  private place(path: string): Place {
    const segments = path.split("/");
    const [top, name, child] = segments;
    const group = top === undefined ? undefined : this.groups.get(top);
    // A malformed path goes through unchanged, for the store to refuse.
    if (!group || segments.includes("")) return { kind: "node", path };
    if (segments.length === 1) return { kind: "top", path, group };
    if (name !== this.escaped) return { kind: "node", path };
    if (child === undefined) return { kind: "group", members: group };
    const root = group.get(child);
    if (root === undefined) {
      // A node added to the schema-2 layout needs its schema-1 place (layout.ts); at the root it could hit another node.
      throw new SchedulerError("internal", `the mono layout has no place for '${path}': add '${child}' to layout.ts SCHEMA1_*`);
    }
    return { kind: "node", path: [root, ...segments.slice(3)].join("/") };
  }
}
