/**
 * One task of a pod (`pods.<type>.tasks.<name>`, dcos-commons §4.2): goal, command, env,
 * checks and its resources, either inline or through `resource-set: <id>`.
 */
import type { CheckSpec, GoalState, ResourceSetSpec, TaskSpec } from "./types.js";
import type { Issues, YamlMap } from "./fields.js";
import {
  checkKeys,
  controlProblem,
  describe,
  isAbsent,
  readBool,
  readEnum,
  readMap,
  readNumber,
  readString,
  violate,
  warn,
} from "./fields.js";
import { VALUE_LIMITS } from "./limits.js";
import { RESOURCE_KEYS, parseResourceSet } from "./parse-resources.js";
import { TASK_EXTRA_KEYS, parseTaskExtras } from "./parse-task-extras.js";

/** Every key a task may have (the key table test checks each has a row). */
export const TASK_KEYS: readonly string[] = [
  ...TASK_EXTRA_KEYS,
  "goal",
  "cmd",
  "env",
  "essential",
  "kill-grace-period",
  "health-check",
  "readiness-check",
  "resource-set",
  ...RESOURCE_KEYS,
];

const HEALTH_KEYS = [
  "cmd",
  "interval",
  "grace-period",
  "delay",
  "timeout",
  "max-consecutive-failures",
];
const READINESS_KEYS = ["cmd", "interval", "delay", "timeout"];

/** Defaults when a check omits a field; the reference examples spell out these same values. */
export const CHECK_DEFAULTS = {
  intervalS: 5,
  timeoutS: 10,
  delayS: 0,
  gracePeriodS: 0,
  maxConsecutiveFailures: 3,
} as const;

function parseGoal(issues: Issues, field: string, value: unknown): GoalState {
  if (typeof value === "string" && value.trim().toUpperCase() === "FINISHED") {
    violate(
      issues,
      field,
      "FINISHED is not a goal; use FINISH (re-run on config change) or ONCE (run once ever)",
    );
    return "FINISH";
  }
  return (
    readEnum(issues, field, value, ["RUNNING", "FINISH", "ONCE"] as const, "RUNNING") ?? "RUNNING"
  );
}

/**
 * `env`: names are keys (the YAML loader refuses control characters in keys); values are free
 * text where tab and newline stay legal (PEM certificates are env values).
 */
function parseEnv(issues: Issues, field: string, value: unknown): Record<string, string> {
  const entries: [string, string][] = [];
  for (const [key, raw] of readMap(issues, field, value) ?? []) {
    const text = typeof raw === "string" ? raw : "";
    const problem = controlProblem(text, true);
    if (key === "" || key.includes("=")) {
      violate(issues, `${field}.${key}`, "environment variable names must be non-empty, without '='");
    } else if (raw instanceof Map || Array.isArray(raw)) {
      violate(issues, `${field}.${key}`, "must be a scalar value");
    } else if (problem !== undefined) {
      violate(issues, `${field}.${key}`, problem);
    } else {
      entries.push([key, text]);
    }
  }
  // fromEntries defines own properties, so even a `__proto__` key stays plain data.
  return Object.fromEntries(entries);
}

function parseCheck(
  issues: Issues,
  field: string,
  value: unknown,
  health: boolean,
): CheckSpec | undefined {
  if (isAbsent(value)) return undefined;
  const map = readMap(issues, field, value);
  if (!map) return undefined;
  checkKeys(issues, field, map, health ? HEALTH_KEYS : READINESS_KEYS);
  // Whole seconds (or failures), finite and bounded; written but empty is a violation.
  const num = (key: string, min: number, fallback: number): number => {
    const limit = key === "max-consecutive-failures" ? "maxCheckFailures" : "maxDurationS";
    return (
      readNumber(issues, `${field}.${key}`, map.get(key), {
        integer: true,
        min,
        max: VALUE_LIMITS[limit],
        maxName: `VALUE_LIMITS.${limit}`,
        default: fallback,
      }) ?? fallback
    );
  };
  const cmd = readString(issues, `${field}.cmd`, map.get("cmd"), true, true) ?? "";
  return {
    cmd,
    intervalS: num("interval", 1, CHECK_DEFAULTS.intervalS),
    timeoutS: num("timeout", 1, CHECK_DEFAULTS.timeoutS),
    delayS: num("delay", 0, CHECK_DEFAULTS.delayS),
    // Readiness checks never kill, so these two only ever carry the defaults there.
    gracePeriodS: health
      ? num("grace-period", 0, CHECK_DEFAULTS.gracePeriodS)
      : CHECK_DEFAULTS.gracePeriodS,
    maxConsecutiveFailures: health
      ? num("max-consecutive-failures", 1, CHECK_DEFAULTS.maxConsecutiveFailures)
      : CHECK_DEFAULTS.maxConsecutiveFailures,
  };
}

/** The resource set id a task consumes, validating the `resource-set` reference. */
function referencedSet(
  issues: Issues,
  field: string,
  map: YamlMap,
  id: string,
  podSetIds: readonly string[],
): string {
  // The reference reads a task's resources from its set alone and drops inline ones.
  for (const key of RESOURCE_KEYS) {
    if (map.has(key)) warn(issues, `${field}.${key}`, `ignored: the task uses resource-set ${id}, as the reference does`);
  }
  if (!podSetIds.includes(id)) {
    const known =
      podSetIds.length > 0 ? `the pod defines: ${podSetIds.join(", ")}` : "the pod defines none";
    violate(issues, `${field}.resource-set`, `unknown resource set ${describe(id)} (${known})`);
  }
  return id;
}

export interface ParsedTask {
  readonly task: TaskSpec;
  /** The implicit `<task>-resource-set` when resources are written inline. */
  readonly inlineSet?: ResourceSetSpec;
}

/** Parses task `name` at `field`; `podSetIds` are the ids under the pod's `resource-sets`. */
export function parseTask(
  issues: Issues,
  field: string,
  name: string,
  value: unknown,
  podSetIds: readonly string[],
): ParsedTask | undefined {
  const map = readMap(issues, field, value);
  if (!map) return undefined;
  checkKeys(issues, field, map, TASK_KEYS);
  const setRef = readString(issues, `${field}.resource-set`, map.get("resource-set"), false);
  const inlineSet =
    setRef === undefined
      ? parseResourceSet(
          issues,
          field,
          `${name}-resource-set`,
          map,
          " unless the task uses a resource-set",
        )
      : undefined;
  const healthCheck = parseCheck(issues, `${field}.health-check`, map.get("health-check"), true);
  const readinessCheck = parseCheck(
    issues,
    `${field}.readiness-check`,
    map.get("readiness-check"),
    false,
  );
  const task: TaskSpec = {
    name,
    goal: parseGoal(issues, `${field}.goal`, map.get("goal")),
    cmd: readString(issues, `${field}.cmd`, map.get("cmd"), true, true) ?? "",
    env: parseEnv(issues, `${field}.env`, map.get("env")),
    resourceSetId: inlineSet?.id ?? referencedSet(issues, field, map, setRef ?? "", podSetIds),
    essential: readBool(issues, `${field}.essential`, map.get("essential"), true),
    killGracePeriodS:
      readNumber(issues, `${field}.kill-grace-period`, map.get("kill-grace-period"), {
        integer: true,
        min: 0,
        max: VALUE_LIMITS.maxDurationS,
        maxName: "VALUE_LIMITS.maxDurationS",
        default: 0,
      }) ?? 0,
    ...(healthCheck ? { healthCheck } : {}),
    ...(readinessCheck ? { readinessCheck } : {}),
    ...parseTaskExtras(issues, field, map),
  };
  return inlineSet ? { task, inlineSet } : { task };
}
