/**
 * Placement constraints of a pod (`pods.<type>.placement`, dcos-commons §4.2): the reference's
 * Marathon-style rules (its MarathonConstraintParser) over the agent's hostname, zone, region or
 * one of its attributes. Plain data, stored with the spec; `parsePlacement`
 * (placement-parse.ts) builds it and `src/domain/offer/placement.ts` evaluates it.
 */

/**
 * What a constraint asks of an agent, counting the other instances of the same pod type:
 * - UNIQUE: at most one instance per value (an agent without the field is refused).
 * - CLUSTER: every instance on the value given, or without one on the value the first took.
 * - GROUP_BY: spread evenly over the values (over `count` values when given).
 * - LIKE / UNLIKE: the value matches (does not match) the regular expression, as a whole.
 * - MAX_PER: at most `count` instances per value.
 * - IS / IS_NOT: the value equals (differs from) the one given.
 */
export type PlacementOperator = "UNIQUE" | "CLUSTER" | "GROUP_BY" | "LIKE" | "UNLIKE" | "MAX_PER" | "IS" | "IS_NOT";

export const PLACEMENT_OPERATORS: readonly PlacementOperator[] = ["UNIQUE", "CLUSTER", "GROUP_BY", "LIKE", "UNLIKE", "MAX_PER", "IS", "IS_NOT"];

/**
 * Where the value comes from: the agent's hostname, its zone or region (the agent attributes
 * `zone` and `region`; the reference writes them `@zone` and `@region`), or any other attribute.
 */
export type PlacementTarget = "hostname" | "zone" | "region" | "attribute";

export interface PlacementConstraint {
  /** The field as written (`hostname`, `@zone`, `rack_id`); for an attribute, its name. */
  readonly field: string;
  readonly target: PlacementTarget;
  readonly operator: PlacementOperator;
  /** CLUSTER, IS, IS_NOT: the value; LIKE, UNLIKE: the regular expression. */
  readonly value?: string;
  /** MAX_PER: the most instances per value; GROUP_BY: how many values to spread over. */
  readonly count?: number;
}

export interface PlacementSpec {
  /** In the order written; an agent must satisfy every one. */
  readonly constraints: readonly PlacementConstraint[];
}

/** Bounds of one pod's placement: a regex is matched against every offer's agent. */
export const PLACEMENT_LIMITS = {
  /** Constraints of one pod. */
  maxConstraints: 16,
  /** Characters of a LIKE/UNLIKE regular expression or an IS/CLUSTER value. */
  maxValueChars: 256,
  /** MAX_PER and GROUP_BY counts. */
  maxCount: 100_000,
} as const;

/** A constraint as the Marathon string form writes it: `hostname:UNIQUE`, `rack:MAX_PER:2`. */
export function describeConstraint(c: PlacementConstraint): string {
  const param = c.value ?? (c.count !== undefined ? String(c.count) : undefined);
  return param === undefined ? `${c.field}:${c.operator}` : `${c.field}:${c.operator}:${param}`;
}

/** The target a field name reads: hostname, zone and region are fields of their own (any case). */
export function placementTarget(field: string): PlacementTarget {
  const name = field.toLowerCase();
  if (name === "hostname") return "hostname";
  if (name === "zone" || name === "@zone") return "zone";
  if (name === "region" || name === "@region") return "region";
  return "attribute";
}
