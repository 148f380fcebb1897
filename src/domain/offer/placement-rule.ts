/**
 * One placement constraint over the instances of a pod type (offer/placement.ts): the instances
 * counted by the value of its field, and whether an agent breaks it, in words.
 */
import type { PlacementConstraint } from "../spec/placement.js";
import { describeConstraint } from "../spec/placement.js";
import { matchesWhole } from "../spec/placement-regex.js";
import type { AgentPlace } from "./agent-place.js";
import { REGION_ATTRIBUTE, ZONE_ATTRIBUTE } from "./agent-place.js";

/** One instance of the pod type and where it runs (`world-0` on its agent). */
export interface PlacedInstance {
  readonly name: string;
  readonly place: AgentPlace;
}

/** Instance names quoted in one reason. */
const QUOTED_NAMES = 3;
const NONE: readonly string[] = [];

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
export class Rule {
  readonly label: string;
  private readonly byValue = new Map<string, string[]>();
  /** Instance → its value, to leave out the instance being placed (an unconfirmed launch of it). */
  private readonly valueOf = new Map<string, string>();
  /** GROUP_BY: values holding instances and the fewest any holds; recomputed after an add. */
  private spread: { readonly values: number; readonly fewest: number } | undefined;

  constructor(readonly c: PlacementConstraint) {
    this.label = describeConstraint(c);
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
        return matchesWhole(c.value ?? "", v) ? undefined : `${fieldName(c)} ${v} does not match`;
      case "UNLIKE":
        return v !== undefined && matchesWhole(c.value ?? "", v) ? `${fieldName(c)} ${v} matches` : undefined;
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
