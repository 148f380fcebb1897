/**
 * Placement of a pod instance as filter → score → select (the reference's PlacementRules): each
 * offered agent is judged against the pod's constraints, counting where the other instances of
 * the same pod type are (from their task records, plus those launched earlier in the same
 * decision); agents that break one are refused with a readable reason; the rest are ranked,
 * spreading GROUP_BY and MAX_PER values first, and tried in that order. Pure.
 */
import type { Offer, TaskInfo } from "../cluster.js";
import type { PlacementSpec } from "../spec/placement.js";
import type { AgentPlace } from "./agent-place.js";
import { offerPlace, placeOfLabels } from "./agent-place.js";
import type { PlacedInstance } from "./placement-rule.js";
import { Rule } from "./placement-rule.js";
import { LABEL_INDEX, LABEL_TASK_TYPE } from "./task-info.js";

export type { PlacedInstance } from "./placement-rule.js";

export type PlacementVerdict = { readonly ok: true; readonly score: number } | { readonly ok: false; readonly reason: string };

/** The offers a pod instance may use, best first, and why the others were refused. */
export interface RankedOffers {
  /** Indices into the offers given. */
  readonly order: readonly number[];
  /** `agent h2: hostname:UNIQUE, world-0 already there; …`; "" when none was refused. */
  readonly refused: string;
}

/** Refusals quoted in a step's message; the rest are counted. */
const QUOTED_REFUSALS = 3;

/**
 * Where the instances of `podType` run, by their task records (one entry per instance). Leave
 * out the records of pods that are to move (permanently failed).
 */
export function placedInstances(tasks: Iterable<{ readonly info: TaskInfo }>, podType: string): PlacedInstance[] {
  const seen = new Map<string, PlacedInstance>();
  for (const { info } of tasks) {
    const labels = info.labels;
    if (labels[LABEL_TASK_TYPE] !== podType) continue;
    const name = `${podType}-${labels[LABEL_INDEX] ?? ""}`;
    if (seen.has(name)) continue;
    const place = placeOf(info);
    if (place) seen.set(name, { name, place });
  }
  return [...seen.values()];
}

// Task records are immutable and outlive many decisions: each one's labels are read once.
const places = new WeakMap<TaskInfo, AgentPlace | null>();

function placeOf(info: TaskInfo): AgentPlace | undefined {
  let place = places.get(info);
  if (place === undefined) {
    place = placeOfLabels(info.labels) ?? null;
    places.set(info, place);
  }
  return place ?? undefined;
}

/** A pod type's constraints over where its instances are; `add` each launch of the decision. */
export class PodPlacement {
  private readonly rules: Rule[];
  /** Some constraint ranks the agents (GROUP_BY, MAX_PER): every offer is judged before any is tried. */
  readonly ranks: boolean;

  constructor(spec: PlacementSpec, instances: readonly PlacedInstance[]) {
    this.rules = spec.constraints.map((c) => new Rule(c));
    this.ranks = spec.constraints.some((c) => c.operator === "GROUP_BY" || c.operator === "MAX_PER");
    for (const instance of instances) this.add(instance);
  }

  add(instance: PlacedInstance): void {
    for (const rule of this.rules) rule.add(instance);
  }

  /** Filter and score one agent for instance `self` (`world-1`). */
  judge(place: AgentPlace, self: string): PlacementVerdict {
    let score = 0;
    for (const rule of this.rules) {
      const why = rule.check(place, self);
      if (why !== undefined) return { ok: false, reason: `${rule.label}, ${why}` };
      score += rule.score(place, self);
    }
    return { ok: true, score };
  }

  /** The offers instance `self` may use, best first (ties keep the offers' order). */
  rank(offers: readonly Offer[], self: string): RankedOffers {
    const accepted: { i: number; score: number }[] = [];
    const refusals = new Refusals();
    let scored = false;
    for (let i = 0; i < offers.length; i++) {
      const offer = offers[i]!;
      const verdict = this.judge(offerPlace(offer), self);
      if (verdict.ok) {
        accepted.push({ i, score: verdict.score });
        scored ||= verdict.score !== 0;
      } else {
        refusals.add(offer, verdict.reason);
      }
    }
    if (scored) accepted.sort((a, b) => b.score - a.score || a.i - b.i);
    return { order: accepted.map((a) => a.i), refused: refusals.text() };
  }
}

/** The refusals of one pass: a few quoted, the rest counted. */
class Refusals {
  private readonly quoted: string[] = [];
  private count = 0;

  add(offer: Offer, reason: string): void {
    if (this.count++ < QUOTED_REFUSALS) this.quoted.push(`agent ${offer.hostname}: ${reason}`);
  }

  text(): string {
    const more = this.count - this.quoted.length;
    return [...this.quoted, ...(more > 0 ? [`and ${more} more agent${more === 1 ? "" : "s"}`] : [])].join("; ");
  }
}

/**
 * One step's pass over the offers: ranked up front when a constraint scores, otherwise judged
 * one by one as they are tried, so the first allowed offer that fits ends the pass (a
 * hostname-UNIQUE pod on 1,000 agents looks at as many offers as it needs, not all).
 */
export class PlacementPass {
  /** The offers to try, best first, when ranked; undefined: every offer, in order, through `allows`. */
  readonly order: readonly number[] | undefined;
  private readonly refusals = new Refusals();
  private readonly ranked: string = "";
  private allowedAny = false;

  constructor(
    private readonly placement: PodPlacement,
    private readonly offers: readonly Offer[],
    private readonly self: string,
  ) {
    if (!placement.ranks) return;
    const { order, refused } = placement.rank(offers, self);
    this.order = order;
    this.ranked = refused;
    this.allowedAny = order.length > 0;
  }

  /** Whether offer `i` may be tried (always, for a ranked one: `order` holds only those). */
  allows(i: number): boolean {
    if (this.order) return true;
    const offer = this.offers[i]!;
    const verdict = this.placement.judge(offerPlace(offer), this.self);
    if (verdict.ok) this.allowedAny = true;
    else this.refusals.add(offer, verdict.reason);
    return verdict.ok;
  }

  /** The instance launched on `offer`: it counts for the next steps of the decision. */
  placed(offer: Offer): void {
    this.placement.add({ name: this.self, place: offerPlace(offer) });
  }

  /**
   * Why the step waits: `reason` (why the last allowed offer did not fit) and the agents refused,
   * or only those when placement allowed none.
   */
  why(reason: string): string {
    const refused = this.order ? this.ranked : this.refusals.text();
    if (refused === "") return reason;
    return this.allowedAny ? `${reason}; ${refused}` : refused;
  }
}
