/**
 * Readers for the loosely typed YAML tree. The tree is loaded with the failsafe schema, so every
 * scalar is the string written in the source: `count: 2` and `count: "2"` read the same, and env
 * values keep their exact text (`1.10` stays `1.10`). Readers never throw; they record a
 * violation and return undefined so that one pass reports every problem.
 */
import type { FieldViolation } from "../errors.js";
import type { SpecWarning } from "./types.js";

/** A YAML mapping with its keys in source order. */
export type YamlMap = ReadonlyMap<string, unknown>;

/** Everything found wrong (violations) or ignored (warnings) so far. */
export interface Issues {
  readonly violations: FieldViolation[];
  readonly warnings: SpecWarning[];
}

export function violate(issues: Issues, field: string, reason: string): undefined {
  issues.violations.push({ field, reason });
  return undefined;
}

export function warn(issues: Issues, field: string, message: string): void {
  issues.warnings.push({ field, message });
}

/** Empty, `~` and `null` are YAML's spellings of "no value". */
export function isAbsent(value: unknown): boolean {
  return (
    value === undefined ||
    value === "" ||
    value === "~" ||
    value === "null" ||
    value === "Null" ||
    value === "NULL"
  );
}

function describe(value: unknown): string {
  if (value instanceof Map) return "a mapping";
  if (Array.isArray(value)) return "a list";
  return `'${String(value)}'`;
}

/** A mapping (absent ⇒ empty), with every key a scalar. */
export function readMap(issues: Issues, field: string, value: unknown): YamlMap | undefined {
  if (isAbsent(value)) return new Map();
  if (!(value instanceof Map))
    return violate(issues, field, `must be a mapping, got ${describe(value)}`);
  // The tree is this parse's own; handing the map out read-only saves copying it.
  for (const key of (value as Map<unknown, unknown>).keys()) {
    if (typeof key !== "string") return violate(issues, field, "keys must be plain scalars");
  }
  return value as YamlMap;
}

/** A list (absent ⇒ empty). */
export function readList(
  issues: Issues,
  field: string,
  value: unknown,
): readonly unknown[] | undefined {
  if (isAbsent(value)) return [];
  if (!Array.isArray(value))
    return violate(issues, field, `must be a list, got ${describe(value)}`);
  return value;
}

/** A scalar string; `required` rejects absent and blank values. */
export function readString(
  issues: Issues,
  field: string,
  value: unknown,
  required: boolean,
): string | undefined {
  if (value instanceof Map || Array.isArray(value)) {
    return violate(issues, field, `must be a string, got ${describe(value)}`);
  }
  if (typeof value !== "string" || value.trim() === "") {
    return required ? violate(issues, field, "is required") : undefined;
  }
  return value;
}

export interface NumberRule {
  readonly integer?: boolean;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** The value must be strictly greater than this. */
  readonly above?: number;
  readonly max?: number;
  /** Used when absent; without it an absent value is a violation. */
  readonly default?: number;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function numberProblem(n: number, rule: NumberRule): string | undefined {
  if (rule.integer === true && !Number.isInteger(n)) return "must be an integer";
  if (rule.min !== undefined && n < rule.min) return `must be at least ${rule.min}`;
  if (rule.above !== undefined && n <= rule.above) return `must be greater than ${rule.above}`;
  if (rule.max !== undefined && n > rule.max) return `must be at most ${rule.max}`;
  return undefined;
}

/** A decimal number written plainly or as a string; absent ⇒ `rule.default` or "is required". */
export function readNumber(
  issues: Issues,
  field: string,
  value: unknown,
  rule: NumberRule,
): number | undefined {
  if (isAbsent(value)) return rule.default ?? violate(issues, field, "is required");
  const kind = rule.integer === true ? "an integer" : "a number";
  if (typeof value !== "string" || !NUMBER.test(value.trim())) {
    return violate(issues, field, `must be ${kind}, got ${describe(value)}`);
  }
  const n = Number(value.trim());
  const problem = Number.isFinite(n) ? numberProblem(n, rule) : `must be ${kind}`;
  return problem === undefined ? n : violate(issues, field, problem);
}

/** `true`/`false` in any case; absent ⇒ `fallback`. */
export function readBool(
  issues: Issues,
  field: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (isAbsent(value)) return fallback;
  const text = typeof value === "string" ? value.trim().toLowerCase() : undefined;
  if (text === "true" || text === "false") return text === "true";
  violate(issues, field, `must be true or false, got ${describe(value)}`);
  return fallback;
}

/** One of `allowed` (compared case-insensitively); absent ⇒ `fallback` or "is required". */
export function readEnum<T extends string>(
  issues: Issues,
  field: string,
  value: unknown,
  allowed: readonly T[],
  fallback?: T,
): T | undefined {
  if (isAbsent(value)) return fallback ?? violate(issues, field, "is required");
  const text = typeof value === "string" ? value.trim().toLowerCase() : undefined;
  const match = allowed.find((a) => a.toLowerCase() === text);
  return (
    match ?? violate(issues, field, `must be one of ${allowed.join(", ")}, got ${describe(value)}`)
  );
}

/**
 * Warns about every key of `map` that is not in `known`: `notYet` keys are reference keys Corral
 * accepts but does not act on yet (`prefix-*` matches by prefix); anything else is unknown.
 * Nothing is dropped without a word.
 */
export function checkKeys(
  issues: Issues,
  field: string,
  map: YamlMap,
  known: readonly string[],
  notYet: readonly string[] = [],
): void {
  for (const key of map.keys()) {
    if (known.includes(key)) continue;
    const message = notYet.some((k) =>
      k.endsWith("*") ? key.startsWith(k.slice(0, -1)) : k === key,
    )
      ? "not supported by Corral yet, ignored"
      : "unknown key, ignored";
    warn(issues, `${field}.${key}`, message);
  }
}

/** Lowercase DNS label: pod types and task names become parts of host and task names. */
export const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const LABEL_RULE =
  "must be a lowercase DNS label: a-z, 0-9 and '-', starting and ending with a letter or digit";

/** Violation unless `limit` holds; the reason names the SPEC_LIMITS entry. */
export function checkLimit(
  issues: Issues,
  field: string,
  name: string,
  actual: number,
  limit: number,
): boolean {
  if (actual <= limit) return true;
  violate(issues, field, `exceeds SPEC_LIMITS.${name} (at most ${limit}, got ${actual})`);
  return false;
}
