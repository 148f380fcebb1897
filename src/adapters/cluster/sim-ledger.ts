/**
 * One simulated agent's resource accounting: what it has (`total`, in its current reserved /
 * volume shape), what live tasks and executors hold (`used`), what sits in outstanding offers
 * (`offered`), and what is free (`total − used − offered`). The free bag is kept up to date
 * kind by kind as the others change, with the same arithmetic as recomputing it, so an
 * allocation round reads it instead of re-deriving every agent's resources.
 */
import type { Resource } from "../../domain/cluster.js";
import { ResourceBag, ResourceList } from "./sim-resources.js";
import type { Kind } from "./sim-resources.js";

export class SimLedger {
  /** Also the agent's table of kinds: bags built from operation resources reuse its shapes. */
  private total: ResourceBag;
  private readonly used = new ResourceBag();
  private readonly offered = new ResourceBag();
  /** total − used − offered; undefined after `reset` until next needed. */
  private free: ResourceBag | undefined;
  /** Persistence ID → number of kinds in `total` carrying it, so CREATE need not scan. */
  private readonly volumes = new Map<string, number>();

  /** `initial`: unreserved resources and any STATIC pools, what `reset` returns to. */
  constructor(private readonly initial: readonly Resource[]) {
    this.total = ResourceBag.of(initial);
  }

  /** Everything on the agent, in its current shape. */
  totalResources(): Resource[] {
    return this.total.toArray();
  }

  usedResources(): Resource[] {
    return this.used.toArray();
  }

  offeredResources(): Resource[] {
    return this.offered.toArray();
  }

  /** Every dynamically reserved resource (volumes and refined STATIC pools included), free or in use. */
  reserved(): Resource[] {
    return this.total.toArray((k) => k.dynamic);
  }

  /** Whether a persistent volume with this ID exists on the agent. */
  hasVolume(id: string): boolean {
    return this.volumes.has(id);
  }

  /** total − used − offered (a copy). */
  available(): ResourceBag {
    return this.avail().clone();
  }

  /**
   * The free resources an offer allocated to `role` may hold: those reserved to `role` or to
   * an ancestor of it (a STATIC pool of `R` is offered to `R/sub`, mesos-v1-api.md §9.1), and
   * the unreserved ones when `unreserved`.
   */
  offerable(role: string, unreserved = true): ResourceBag {
    return this.avail().filter((k) => (k.reserved ? isRoleOrDescendant(role, k.role!) : unreserved));
  }

  /** `resources` merged into a bag sharing this agent's kinds. */
  bag(resources: readonly Resource[]): ResourceBag {
    return ResourceBag.of(resources, this.total);
  }

  /** `resources` resolved to this agent's kinds, unmerged. */
  list(resources: readonly Resource[]): ResourceList {
    return ResourceList.parse(resources, this.total);
  }

  /** `bag` (from `offerable`) goes into an outstanding offer. */
  hold(bag: ResourceBag): void {
    this.offered.addAll(bag);
    this.sync(bag.kinds());
  }

  /** An outstanding offer of `bag` is gone. */
  unhold(bag: ResourceBag): void {
    this.offered.subtractAll(bag);
    this.sync(bag.kinds());
  }

  /** An offer operation turns `take` (which `remaining` holds) into `give`, in the offer and on the agent. */
  convert(remaining: ResourceBag, take: ResourceBag, give: ResourceList): void {
    const kinds = [...take.kinds(), ...give.kinds()];
    const volumes = kinds.filter(
      (k, i) => k.volumeId !== undefined && kinds.findIndex((x) => x.key === k.key) === i,
    );
    const had = volumes.map((k) => this.total.kindOf(k.key) !== undefined);
    remaining.subtractAll(take).addAll(give);
    this.total.subtractAll(take).addAll(give);
    this.sync(kinds);
    volumes.forEach((k, i) => {
      const id = k.volumeId!;
      const delta = Number(this.total.kindOf(k.key) !== undefined) - Number(had[i]);
      const n = (this.volumes.get(id) ?? 0) + delta;
      if (n > 0) this.volumes.set(id, n);
      else this.volumes.delete(id);
    });
  }

  /** A launch: `need` (which `remaining` holds) is now held by tasks and executors. */
  use(remaining: ResourceBag, need: ResourceList, needBag: ResourceBag): void {
    remaining.subtractAll(needBag);
    this.used.addAll(need);
    this.sync(needBag.kinds());
  }

  /** Tasks or an executor ended: what they held is free again. */
  release(bag: ResourceBag): void {
    this.used.subtractAll(bag);
    this.sync(bag.kinds());
  }

  /** Back to the spec resources (unreserved and STATIC pools). Only valid when no task or executor holds anything. */
  reset(): void {
    this.total = ResourceBag.of(this.initial);
    this.free = undefined;
    this.volumes.clear();
  }

  private sync(kinds: Iterable<Kind>): void {
    this.free?.recompute(kinds, this.total, this.used, this.offered);
  }

  private avail(): ResourceBag {
    this.free ??= this.total.clone().subtractAll(this.used).subtractAll(this.offered);
    return this.free;
  }
}

/** `role` is `ancestor` or below it in the role tree (`a/b/c` under `a/b` and `a`). */
export function isRoleOrDescendant(role: string, ancestor: string): boolean {
  return role === ancestor || role.startsWith(`${ancestor}/`);
}
