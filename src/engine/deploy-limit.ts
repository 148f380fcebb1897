/**
 * The deployment limit (`--max-parallel-deploys`; the reference's ParallelFootprintDiscipline,
 * dcos-commons §1.4): at most `limit` services acquire new resources at once. A service wanting
 * footprint (an unfinished deploy plan that is acquiring, `domain/service/deploy-slot.ts`) waits
 * in line in the order it started wanting one, and is admitted when a slot is free; it keeps
 * the slot until it stops wanting footprint or is removed. The admitted set is stored, so a
 * restarted scheduler honours it (unknown names pruned). Lowering the limit evicts nobody.
 *
 * A service without a slot is not left out of the cycle, as in the reference: it is offered
 * only its own reservations, so recovery and relaunches in place go on while nothing new is
 * reserved (`ownReservations`).
 */
import type { Offer, Resource } from "../domain/cluster.js";
import { reservationOwner } from "../domain/reservation-owner.js";
import { EXECUTOR_RESOURCES } from "../domain/offer/evaluate.js";
import type { Logger } from "./ports.js";
import type { SelectionStore } from "./store/selection-store.js";

/** Holders named in a waiting step's message up to this many; past it, only counted. */
const NAMED_HOLDERS = 3;

export class DeployLimit {
  /** Services holding a slot, in the order they were admitted. */
  private readonly selected = new Set<string>();
  /** Services wanting footprint without a slot, in the order they started wanting it. */
  private readonly waiting = new Set<string>();
  /** What the store holds: a service admitted acquires only once its slot is stored. */
  private stored: ReadonlySet<string> = new Set();
  private loaded = false;

  constructor(
    /** At least 1. */
    readonly limit: number,
    private readonly store: SelectionStore,
    private readonly log: Logger,
  ) {}

  /** Reads the stored selection once; until it was read nobody is admitted (a failed read is retried). */
  async load(): Promise<void> {
    if (this.loaded) return;
    try {
      const names = await this.store.fetch();
      for (const name of names) {
        this.selected.add(name);
        this.waiting.delete(name);
      }
      this.stored = new Set(names);
      this.loaded = true;
      if (names.length > 0) this.log.info({ selected: names, limit: this.limit }, "deploy slots recovered");
    } catch (err) {
      this.log.warn({ err }, "could not read the stored deploy slots; no service is admitted until they are read");
    }
  }

  /**
   * One status round. `services`: every service, in arrival order (puts and recovery), with
   * whether it wants footprint, or undefined when its status failed (it keeps its place).
   * Returns whether a service was admitted.
   */
  round(services: ReadonlyMap<string, boolean | undefined>): boolean {
    const leaves = (name: string): boolean => services.get(name) === false || !services.has(name);
    for (const name of this.selected) if (leaves(name)) this.selected.delete(name);
    for (const name of this.waiting) if (leaves(name)) this.waiting.delete(name);
    for (const [name, footprint] of services) {
      if (footprint === true && !this.selected.has(name)) this.waiting.add(name);
    }
    if (!this.loaded) return false;
    let admitted = false;
    for (const name of this.waiting) {
      if (this.selected.size >= this.limit) break;
      this.waiting.delete(name);
      this.selected.add(name);
      admitted = true;
      this.log.info({ service: name, limit: this.limit }, "deploy slot given");
    }
    return admitted;
  }

  /** Stores the selection when it changed; a failed write is retried next cycle. */
  async persist(): Promise<void> {
    if (!this.loaded) return;
    const names = [...this.selected];
    try {
      await this.store.store(names);
      this.stored = new Set(names);
    } catch (err) {
      this.log.warn({ err }, "could not store the deploy slots; services admitted wait until they are stored");
    }
  }

  /** Why a service wanting footprint may not acquire now; undefined when it may. */
  waitReason(name: string): string | undefined {
    if (this.selected.has(name) && this.stored.has(name)) return undefined;
    if (!this.loaded) return "waiting for a deploy slot: the stored slots are not read yet";
    if (this.selected.has(name)) return "waiting for a deploy slot: storing its slot";
    const holders = [...this.selected];
    const held = `${holders.length} of ${this.limit} held`;
    return `waiting for a deploy slot: ${holders.length <= NAMED_HOLDERS ? `${held} by ${holders.join(", ")}` : held}`;
  }

  /** The services holding a slot, in admission order. */
  holders(): string[] {
    return [...this.selected];
  }
}

/**
 * Each service's own reservations in `offers` (by namespace; those without one are the default
 * service's, if named), one copy per offer holding any, plus just enough unreserved cpus, mem and
 * disk for one executor: a relaunch in place needs its executor's (unreserved) resources, not a
 * slot's worth.
 */
export function ownReservations(offers: readonly Offer[], defaultService?: string): Map<string, Offer[]> {
  const out = new Map<string, Offer[]>();
  for (const offer of offers) {
    const byService = new Map<string, Resource[]>();
    const unreserved = new Map<string, number>();
    for (const r of offer.resources) {
      const ns = reservationOwner(r, offer.frameworkId, defaultService);
      if (ns === undefined) {
        if (!r.reservations?.length && r.type === "SCALAR") unreserved.set(r.name, (unreserved.get(r.name) ?? 0) + (r.scalar ?? 0));
        continue;
      }
      const mine = byService.get(ns);
      if (mine) mine.push(r);
      else byService.set(ns, [r]);
    }
    const forExecutor = EXECUTOR_RESOURCES.flatMap((e) => {
      const have = unreserved.get(e.name) ?? 0;
      return have > 0 ? [{ ...e, scalar: Math.min(have, e.scalar) }] : [];
    });
    for (const [ns, own] of byService) {
      const resources = [...own, ...forExecutor];
      const copies = out.get(ns);
      if (copies) copies.push({ ...offer, resources });
      else out.set(ns, [{ ...offer, resources }]);
    }
  }
  return out;
}
