/**
 * Readers for the loosely typed YAML tree. The tree is loaded with the failsafe schema, so every
 * scalar is the string written in the source: `count: 2` and `count: "2"` read the same, and env
 * values keep their exact text (`1.10` stays `1.10`). Readers never throw; they record a
 * violation and return undefined so that one pass reports every problem.
 */
import { abbreviate } from "../errors.js";
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

/** C0 controls, DEL and C1 controls: never part of a name, key, path or user. */
export const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROLS = new RegExp(CONTROL.source, "g");
/** The same but tab and newline: what free text (`cmd`, env values, PEM data) may not hold. */
const TEXT_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

/** A value as a reason quotes it: bounded, and control characters escaped. */
export function describe(value: unknown): string {
  if (value instanceof Map) return "a mapping";
  if (Array.isArray(value)) return "a list";
  const text = String(value);
  if (!CONTROL.test(text)) return `'${abbreviate(text)}'`;
  // JSON.stringify escapes C0 but leaves DEL and C1 raw: what CONTROL still matches is \uXXXX.
  const escaped = JSON.stringify(text).replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  return abbreviate(escaped);
}

/**
 * Why `value` holds a character no name, key, path or user may (any control character), or
 * with `text` no command or env value may (those but tab and newline); undefined when none.
 * NUL never reaches here: the YAML loader refuses it anywhere.
 */
export function controlProblem(value: string, text = false): string | undefined {
  const found = (text ? TEXT_CONTROL : CONTROL).exec(value);
  if (!found) return undefined;
  const code = found[0].charCodeAt(0).toString(16).padStart(4, "0");
  const allowed = text ? " (tab and newline are allowed)" : "";
  return `must not contain control character U+${code.toUpperCase()}${allowed}`;
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

/**
 * A scalar string; `required` rejects absent and blank values. Control characters are refused,
 * except tab and newline when `text` (commands).
 */
export function readString(
  issues: Issues,
  field: string,
  value: unknown,
  required: boolean,
  text = false,
): string | undefined {
  if (value instanceof Map || Array.isArray(value)) {
    return violate(issues, field, `must be a string, got ${describe(value)}`);
  }
  if (typeof value !== "string" || value.trim() === "") {
    return required ? violate(issues, field, "is required") : undefined;
  }
  const problem = controlProblem(value, text);
  return problem === undefined ? value : violate(issues, field, problem);
}

export interface NumberRule {
  /**
   * A whole number: digits, optionally with a fraction of zeros (`2.0`, which the reference's
   * Jackson mapper coerces to 2); `1.5`, exponents (`1e2`, a string to the reference's YAML 1.1
   * reader that its integer parse refuses) and leading zeros (`010`, octal 8 in YAML 1.1) are not.
   */
  readonly integer?: boolean;
  /**
   * A Mesos scalar: kept to three decimals as Mesos keeps it (mesos-v1-api §1.2), so a value
   * that rounds to 0 is not above 0.
   */
  readonly scalar?: boolean;
  /** Inclusive lower bound. */
  readonly min?: number;
  /** The value must be strictly greater than this. */
  readonly above?: number;
  readonly max?: number;
  /** Where `max` is documented (e.g. `VALUE_LIMITS.maxCpus`), for the reason. */
  readonly maxName?: string;
  /**
   * Used when the key is absent; without it an absent value is a violation. A key written with
   * no value (`''`, `~`, `null`) is a violation either way: it asks for no number at all.
   */
  readonly default?: number;
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
const WHOLE = /^[-+]?(0|[1-9]\d*)(\.0*)?$/;
const SCALAR_STEP = 1000;

function integerProblem(text: string): string | undefined {
  if (WHOLE.test(text)) return undefined;
  if (/[eE]/.test(text)) return "must be an integer written without an exponent";
  if (/^[-+]?0\d/.test(text)) return "must be an integer without leading zeros (YAML 1.1 reads them as octal)";
  return "must be an integer";
}

function numberProblem(n: number, rule: NumberRule): string | undefined {
  if (rule.min !== undefined && n < rule.min) return `must be at least ${rule.min}`;
  if (rule.max !== undefined && n > rule.max) {
    return `must be at most ${rule.max}${rule.maxName ? ` (${rule.maxName})` : ""}`;
  }
  if (rule.above !== undefined && n <= rule.above) {
    const rounded = rule.scalar === true ? " at Mesos' precision of 0.001" : "";
    return `must be greater than ${rule.above}${rounded}`;
  }
  return undefined;
}

/**
 * A finite decimal number written plainly or as a string (`cpus: "0.5"`, as the reference
 * accepts); absent key ⇒ `rule.default` or "is required".
 */
export function readNumber(
  issues: Issues,
  field: string,
  value: unknown,
  rule: NumberRule,
): number | undefined {
  if (value === undefined) return rule.default ?? violate(issues, field, "is required");
  if (isAbsent(value)) {
    if (rule.default === undefined) return violate(issues, field, "is required");
    return violate(issues, field, `must be a number, got ${value === "" ? "an empty value" : describe(value)}`);
  }
  const kind = rule.integer === true ? "an integer" : "a number";
  const text = typeof value === "string" ? value.trim() : undefined;
  if (text === undefined || !NUMBER.test(text)) {
    return violate(issues, field, `must be ${kind}, got ${describe(value)}`);
  }
  const wrong = rule.integer === true ? integerProblem(text) : undefined;
  if (wrong !== undefined) return violate(issues, field, `${wrong}, got ${describe(value)}`);
  const parsed = Number(text);
  if (!Number.isFinite(parsed)) return violate(issues, field, `must be a finite number, got ${describe(value)}`);
  // `+ 0` turns -0 into 0; the ceiling applies before rounding, so 1e308 never multiplies.
  const over = rule.max !== undefined && parsed > rule.max;
  const n = (rule.scalar === true && !over ? Math.round(parsed * SCALAR_STEP) / SCALAR_STEP : parsed) + 0;
  const problem = numberProblem(n, rule);
  return problem === undefined ? n : violate(issues, field, problem);
}

/** YAML 1.1 booleans as SnakeYAML (the reference's parser) reads them, in any case. */
const TRUE_WORDS = ["true", "yes", "y", "on"];
const FALSE_WORDS = ["false", "no", "n", "off"];

/** A YAML 1.1 boolean (`true`/`false`, `yes`/`no`, `on`/`off`, `y`/`n`, any case); absent ⇒ `fallback`. */
export function readBool(
  issues: Issues,
  field: string,
  value: unknown,
  fallback: boolean,
): boolean {
  if (isAbsent(value)) return fallback;
  const text = typeof value === "string" ? value.trim().toLowerCase() : "";
  if (TRUE_WORDS.includes(text)) return true;
  if (FALSE_WORDS.includes(text)) return false;
  violate(issues, field, `must be true or false (YAML 1.1: yes/no, on/off, y/n), got ${describe(value)}`);
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
 * Warns about every key of `map` that is not in `known`: every key of the reference format is
 * known (and acted on or explained where it is read), so anything else is unknown. Nothing is
 * dropped without a word.
 */
export function checkKeys(issues: Issues, field: string, map: YamlMap, known: readonly string[]): void {
  for (const key of map.keys()) {
    if (!known.includes(key)) warn(issues, `${field}.${key}`, "unknown key, ignored");
  }
}

/** Lowercase DNS label (resource set ids, discovery prefixes). */
export const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
export const LABEL_RULE =
  "must be a lowercase DNS label: a-z, 0-9 and '-', starting and ending with a letter or digit";

/**
 * Pod types and task names become parts of task ids and host names (`<pod>-<index>-<task>`):
 * a DNS label, where the reference also allows capitals (`custom-pod-A`). DNS is
 * case-insensitive, so names that differ only in case are refused where they would meet.
 */
export const NAME_LABEL = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/;
export const NAME_LABEL_RULE =
  "must be a DNS label: letters, digits and '-', starting and ending with a letter or digit";

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
