/**
 * Placement of a pod instance as filter → score → select (the reference's PlacementRules): each
 * offered agent is judged against the pod's constraints, counting where the other instances of
 * the same pod type are (from their task records, plus those launched earlier in the same
 * decision); agents that break one are refused with a readable reason; the rest are ranked,
 * spreading GROUP_BY and MAX_PER values first, and tried in that order. Pure.
 */
import type { Offer, TaskInfo } from "../cluster.js";
import type { PlacementConstraint, PlacementSpec } from "../spec/placement.js";
import { describeConstraint } from "../spec/placement.js";
import { wholeValueRegex } from "../spec/placement-regex.js";
import type { AgentPlace } from "./agent-place.js";
import { REGION_ATTRIBUTE, ZONE_ATTRIBUTE, offerPlace, placeOfLabels } from "./agent-place.js";
import { LABEL_INDEX, LABEL_TASK_TYPE } from "./task-info.js";

/** One instance of the pod type and where it runs (`world-0` on its agent). */
export interface PlacedInstance {
  readonly name: string;
  readonly place: AgentPlace;
}

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
/** Instance names quoted in one reason. */
const QUOTED_NAMES = 3;
const NONE: readonly string[] = [];

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

function valueAt(c: PlacementConstraint, place: AgentPlace): string | undefined {
  switch (c.target) {
    case "hostname":
      return place.hostname;
    case "zone":
      return place.attributes[ZONE_ATTRIBUTE];
    case "region":
      return place.attributes[REGION_ATTRIBUTE];
    case "attribute":
      return place.attributes[c.field];
  }
}

function fieldName(c: PlacementConstraint): string {
  return c.target === "attribute" ? `attribute ${c.field}` : c.target;
}

function names(list: readonly string[]): string {
  const shown = list.slice(0, QUOTED_NAMES).join(", ");
  return list.length > QUOTED_NAMES ? `${shown} and ${list.length - QUOTED_NAMES} more` : shown;
}

/** One constraint and the instances counted by its field's value. */
class Rule {
  readonly label: string;
  private readonly byValue = new Map<string, string[]>();
  /** Instance → its value, to leave out the instance being placed (an unconfirmed launch of it). */
  private readonly valueOf = new Map<string, string>();
  /** GROUP_BY: values holding instances and the fewest any holds; recomputed after an add. */
  private spread: { readonly values: number; readonly fewest: number } | undefined;
  private readonly regex: RegExp | undefined;

  constructor(readonly c: PlacementConstraint) {
    this.label = describeConstraint(c);
    this.regex = c.operator === "LIKE" || c.operator === "UNLIKE" ? wholeValueRegex(c.value ?? "") : undefined;
  }

  add(instance: PlacedInstance): void {
    const v = valueAt(this.c, instance.place);
    if (v === undefined) return;
    const list = this.byValue.get(v);
    if (list) list.push(instance.name);
    else this.byValue.set(v, [instance.name]);
    this.valueOf.set(instance.name, v);
    this.spread = undefined;
  }

  /** The other instances at `v`. */
  private others(v: string, self: string): readonly string[] {
    const list = this.byValue.get(v) ?? NONE;
    return this.valueOf.get(self) === v ? list.filter((n) => n !== self) : list;
  }

  /** Why an agent at `place` breaks the rule for instance `self`; undefined when it does not. */
  check(place: AgentPlace, self: string): string | undefined {
    const c = this.c;
    const v = valueAt(c, place);
    const missing = `agent has no ${fieldName(c)}`;
    const there = (list: readonly string[]): string => (c.target === "hostname" ? `${names(list)} already there` : `${names(list)} already in ${fieldName(c)} ${v}`);
    switch (c.operator) {
      case "UNIQUE":
      case "MAX_PER": {
        if (v === undefined) return missing;
        const others = this.others(v, self);
        return others.length >= (c.count ?? 1) ? there(others) : undefined;
      }
      case "CLUSTER":
      case "IS":
        if (v === undefined) return missing;
        if (c.value !== undefined) return v === c.value ? undefined : `${fieldName(c)} is ${v}`;
        return this.clusterWith(v, self);
      case "IS_NOT":
        return v === c.value ? `${fieldName(c)} is ${v}` : undefined;
      case "LIKE":
        if (v === undefined) return missing;
        return this.regex!.test(v) ? undefined : `${fieldName(c)} ${v} does not match`;
      case "UNLIKE":
        return v !== undefined && this.regex!.test(v) ? `${fieldName(c)} ${v} matches` : undefined;
      case "GROUP_BY":
        return v === undefined ? missing : this.groupBy(v, self);
    }
  }

  /** CLUSTER without a value: where the first other instance went. */
  private clusterWith(v: string, self: string): string | undefined {
    for (const value of this.byValue.keys()) {
      const others = this.others(value, self);
      if (others.length > 0) return value === v ? undefined : `${others[0]} is in ${fieldName(this.c)} ${value}`;
    }
    return undefined;
  }

  /**
   * GROUP_BY round-robins (the reference's RoundRobinBy*Rule): a value may take one more
   * instance only while no value has fewer; with a count of values, every one of them first.
   */
  private groupBy(v: string, self: string): string | undefined {
    const here = this.others(v, self).length;
    if (here === 0) return undefined;
    const { values, fewest } = this.valueOf.has(self) ? this.spreadOf(self) : (this.spread ??= this.spreadOf(self));
    const field = fieldName(this.c);
    const wanted = this.c.count;
    if (wanted !== undefined && values < wanted) {
      return `${field} ${v} has ${here} while ${wanted - values} of ${wanted} values have none`;
    }
    return here > fewest ? `${field} ${v} has ${here} while another has ${fewest}` : undefined;
  }

  private spreadOf(self: string): { values: number; fewest: number } {
    let values = 0;
    let fewest = Infinity;
    for (const v of this.byValue.keys()) {
      const n = this.others(v, self).length;
      if (n === 0) continue;
      values++;
      fewest = Math.min(fewest, n);
    }
    return { values, fewest };
  }

  /** Lower for a value holding more instances, so spreading comes first. */
  score(place: AgentPlace, self: string): number {
    if (this.c.operator !== "GROUP_BY" && this.c.operator !== "MAX_PER") return 0;
    const v = valueAt(this.c, place);
    return v === undefined ? 0 : -this.others(v, self).length;
  }
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
