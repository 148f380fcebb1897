/**
 * Outstanding offers of the simulated master and the allocation round (mesos-v1-api.md §9,
 * §10, §13): one offer per active agent holding what is free, unreserved or reserved to the
 * framework's role, unless a decline filter covers all of it. Offered resources are held in
 * the agent's `offered` bag until the offer is accepted, declined or dropped.
 */
import type { Filters, Offer } from "../../domain/cluster.js";
import type { SimAgent, SimFramework } from "./sim-agent.js";
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
}

/** The offers outstanding to the framework, each holding its resources on its agent. */
export class SimOffers {
  private readonly held = new Map<string, Held>();
  private seq = 0;

  constructor(private readonly masterId: string) {}

  list(): Offer[] {
    return [...this.held.values()].map((h) => h.offer);
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
  take(ids: readonly string[]): { agent: SimAgent; remaining: ResourceBag } | string {
    const held = ids.map((id) => this.held.get(id));
    const missing = ids.find((_, i) => held[i] === undefined);
    const agents = new Set(held.map((h) => h?.agent));
    const agent = held[0]?.agent;
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
    return { agent, remaining };
  }

  /** One allocation round. */
  allocate(agents: readonly SimAgent[], fw: SimFramework, nowMs: number): Offer[] {
    const offers: Offer[] = [];
    for (const agent of agents) {
      if (agent.state !== "active") continue;
      const bag = agent.ledger.offerable(fw.role);
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
      this.held.set(offer.id, { offer, agent, bag });
      offers.push(offer);
    }
    return offers;
  }
}
