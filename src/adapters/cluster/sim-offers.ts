/**
 * Outstanding offers of the simulated master and the allocation round (mesos-v1-api.md §9,
 * §10, §13): one offer per active agent holding what is free, unreserved or reserved to the
 * framework's role, unless a decline filter covers all of it. Offered resources are held in
 * the agent's `offered` bag until the offer is accepted, declined or dropped.
 */
import type { Filters, Offer, Range } from "../../domain/cluster.js";
import { frameworkRoles, type SimAgent, type SimFramework } from "./sim-agent.js";
import { deepFreeze, ResourceBag } from "./sim-resources.js";

const DEFAULT_REFUSE_S = 5;
const MAX_REFUSE_S = 365 * 24 * 3600;

/** refuse_seconds in ms: default 5 s when absent, NaN or negative; capped at 365 days (§13). */
export function refuseMs(filters: Filters | undefined): number {
  const s = filters?.refuseSeconds;
  const seconds =
    s === undefined || Number.isNaN(s) || s < 0 ? DEFAULT_REFUSE_S : Math.min(s, MAX_REFUSE_S);
  return seconds * 1000;
}

interface Held {
  readonly offer: Offer;
  readonly agent: SimAgent;
  readonly bag: ResourceBag;
  /** The role the offer is allocated to (Mesos' `allocation_info.role`). */
  readonly role: string;
}

/** The offers outstanding to the framework, each holding its resources on its agent. */
export class SimOffers {
  private readonly held = new Map<string, Held>();
  private seq = 0;

  constructor(private readonly masterId: string) {}

  list(): Offer[] {
    return [...this.held.values()].map((h) => h.offer);
  }

  /** The role an outstanding offer is allocated to. */
  roleOf(offerId: string): string | undefined {
    return this.held.get(offerId)?.role;
  }

  /** Withdraws one offer (decline, rescind); its resources are no longer held as offered. */
  remove(offerId: string): { agent: SimAgent; bag: ResourceBag } | undefined {
    const h = this.held.get(offerId);
    if (!h) return undefined;
    this.held.delete(offerId);
    h.agent.ledger.unhold(h.bag);
    return h;
  }

  /** Withdraws every offer of `agent`; returns their IDs. */
  removeAgent(agent: SimAgent): string[] {
    const ids = [...this.held].filter(([, h]) => h.agent === agent).map(([id]) => id);
    for (const id of ids) this.remove(id);
    return ids;
  }

  /** Voids every offer without rescinding it (resubscription, §15). */
  clear(): void {
    for (const id of [...this.held.keys()]) this.remove(id);
  }

  /**
   * ACCEPT's offers: all outstanding, no duplicates, one agent (§10). They are withdrawn
   * either way; a string says why they were invalid, otherwise their combined resources.
   */
  take(ids: readonly string[]): { agent: SimAgent; remaining: ResourceBag; role: string } | string {
    const held = ids.map((id) => this.held.get(id));
    const missing = ids.find((_, i) => held[i] === undefined);
    const agents = new Set(held.map((h) => h?.agent));
    const roles = new Set(held.map((h) => h?.role));
    const agent = held[0]?.agent;
    const role = held[0]?.role ?? "";
    const remaining = new ResourceBag();
    for (const id of new Set(ids)) {
      const h = this.remove(id);
      if (h) remaining.addAll(h.bag);
    }
    if (ids.length === 0 || !agent) {
      return ids.length === 0 ? "no offer IDs" : `offer ${ids[0]} is not outstanding`;
    }
    if (new Set(ids).size !== ids.length) return "duplicate offer IDs";
    if (missing !== undefined) return `offer ${missing} is not outstanding`;
    if (agents.size > 1) return "offers span several agents";
    if (roles.size > 1) return "offers span several allocation roles";
    return { agent, remaining, role };
  }

  /**
   * One allocation round: per agent, one offer per role of the framework (§9: one allocation
   * role per offer). Unreserved resources go to its first role; reserved ones to their role and
   * its descendants. Unreserved ports in `busyPorts` (held by something else on the machine)
   * are left out.
   */
  allocate(agents: readonly SimAgent[], fw: SimFramework, nowMs: number, busyPorts?: readonly Range[]): Offer[] {
    const offers: Offer[] = [];
    const roles = frameworkRoles(fw);
    for (const agent of agents) {
      if (agent.state !== "active") continue;
      for (const [i, role] of roles.entries()) {
        const bag = agent.ledger.offerable(role, i === 0);
        if (i === 0 && busyPorts && busyPorts.length > 0) dropPorts(bag, busyPorts);
        if (bag.isEmpty() || agent.isFiltered(bag, nowMs)) continue;
        const offer: Offer = deepFreeze({
          id: `${this.masterId}-O${++this.seq}`,
          frameworkId: fw.id,
          agentId: agent.id,
          hostname: agent.hostname,
          resources: bag.toArray(),
          ...(agent.attributes ? { attributes: { ...agent.attributes } } : {}),
        });
        agent.ledger.hold(bag);
        this.held.set(offer.id, { offer, agent, bag, role });
        offers.push(offer);
      }
    }
    return offers;
  }
}

/** Takes the unreserved ports that are in `busy` out of `bag`. */
function dropPorts(bag: ResourceBag, busy: readonly Range[]): void {
  const free = bag.toArray((k) => k.shape.name === "ports" && !k.reserved)[0]?.ranges ?? [];
  const taken = intersect(free, busy);
  if (taken.length > 0) bag.subtractAll([{ name: "ports", type: "RANGES", ranges: taken }]);
}

/** The parts of `a` also in `b` (both lists of inclusive ranges, any order). */
export function intersect(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  for (const x of a) {
    for (const y of b) {
      const begin = Math.max(x.begin, y.begin);
      const end = Math.min(x.end, y.end);
      if (begin <= end) out.push({ begin, end });
    }
  }
  return out;
}
