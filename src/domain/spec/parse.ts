/**
 * Rendered ServiceSpec YAML → validated ServiceSpec (dcos-commons §4.2). One pass collects every
 * violation, so a user fixes a spec in one round trip; keys Corral does not act on yet come back
 * as warnings instead of being rejected or dropped.
 */
import { SchedulerError } from "../errors.js";
import { validateServiceName } from "../names.js";
import type { ParsedSpec, PodSpec } from "./types.js";
import type { Issues } from "./fields.js";
import { checkKeys, checkLimit, readMap, readString, violate, warn } from "./fields.js";
import { SPEC_LIMITS } from "./limits.js";
import { parsePlans } from "./parse-plan.js";
import { parsePod } from "./parse-pod.js";
import type { SpecReuse } from "./yaml-cache.js";
import { loadYaml } from "./yaml-load.js";

export { SPEC_LIMITS } from "./limits.js";
export { YamlDocCache } from "./yaml-cache.js";
export type { SpecReuse } from "./yaml-cache.js";

const FIELD = "spec";
const EMPTY = "is empty; a spec needs at least name and pods";
/** Top-level keys (the key table test checks each has a row). */
export const TOP_KEYS: readonly string[] = ["name", "web-url", "scheduler", "pods", "plans", "user", "replacement-failure-policy"];
export const SCHEDULER_KEYS: readonly string[] = ["user", "principal", "zookeeper"];
const WEB_URL = "not served: Corral has one scheduler URL for all its services";
const REPLACEMENT =
  "not acted on: the reference's permanent-failure timers; in Corral use the scheduler's --replace-unreachable-after, or `corral pod NAME replace POD`";

function parseName(issues: Issues, value: unknown): string {
  const name = readString(issues, `${FIELD}.name`, value, true);
  if (name === undefined) return "";
  for (const v of validateServiceName(name)) violate(issues, `${FIELD}.name`, v.reason);
  return name;
}

/** `scheduler.user`; principal and zookeeper come from Corral's own configuration. */
function parseScheduler(issues: Issues, value: unknown): string | undefined {
  const field = `${FIELD}.scheduler`;
  const map = readMap(issues, field, value);
  if (!map) return undefined;
  checkKeys(issues, field, map, SCHEDULER_KEYS);
  for (const key of ["principal", "zookeeper"]) {
    if (map.has(key)) warn(issues, `${field}.${key}`, `ignored: Corral's own --${key === "principal" ? "principal" : "store"} setting applies to every service`);
  }
  return readString(issues, `${field}.user`, map.get("user"), false);
}

function parsePods(issues: Issues, value: unknown): PodSpec[] {
  const field = `${FIELD}.pods`;
  const map = readMap(issues, field, value);
  if (!map) return [];
  if (map.size === 0) violate(issues, field, "must define at least one pod");
  if (!checkLimit(issues, field, "maxPods", map.size, SPEC_LIMITS.maxPods)) return [];
  const seen = new Map<string, string>();
  const pods = [...map].flatMap(([type, raw]) => {
    // Pod types are parts of host names (`<pod>-<index>-<task>.<service>.autoip…`).
    const twin = seen.get(type.toLowerCase());
    if (twin !== undefined)
      violate(issues, `${field}.${type}`, `pod type ${type} differs from pod type ${twin} only in case; host names are case-insensitive`);
    seen.set(type.toLowerCase(), type);
    const pod = parsePod(issues, `${field}.${type}`, type, raw);
    return pod ? [pod] : [];
  });
  const instances = pods.reduce((sum, p) => sum + p.count * p.tasks.length, 0);
  checkLimit(issues, field, "maxTaskInstances", instances, SPEC_LIMITS.maxTaskInstances);
  return pods;
}

/**
 * Parses and validates a rendered spec.
 * @param reuse optional parsed-document sharing across calls; never changes the result.
 * @returns the spec and a warning for every key accepted but not acted on.
 * @throws SchedulerError invalid_argument listing every violation, with paths such as
 *   `spec.pods.hello.tasks.server.cpus`; YAML syntax errors carry field `spec` and a line.
 */
export function parseServiceSpec(yamlText: string, reuse?: SpecReuse): ParsedSpec {
  const issues: Issues = { violations: [], warnings: [] };
  const tree = loadYaml(yamlText, issues.warnings, reuse);
  const root = tree === null ? new Map<string, unknown>() : readMap(issues, FIELD, tree);
  if (!root) throw SchedulerError.invalid(issues.violations);
  if (root.size === 0) throw SchedulerError.invalid([{ field: FIELD, reason: EMPTY }]);
  checkKeys(issues, FIELD, root, TOP_KEYS);
  if (root.has("user"))
    warn(issues, `${FIELD}.user`, "unknown key, ignored; the service user is scheduler.user");
  const name = parseName(issues, root.get("name"));
  const user = parseScheduler(issues, root.get("scheduler"));
  const pods = parsePods(issues, root.get("pods"));
  const plans = parsePlans(issues, `${FIELD}.plans`, root.get("plans"), pods);
  const webUrl = readString(issues, `${FIELD}.web-url`, root.get("web-url"), false);
  if (root.has("web-url")) warn(issues, `${FIELD}.web-url`, WEB_URL);
  if (root.has("replacement-failure-policy")) warn(issues, `${FIELD}.replacement-failure-policy`, REPLACEMENT);
  if (issues.violations.length > 0) throw SchedulerError.invalid(issues.violations);
  return {
    spec: {
      name,
      ...(webUrl !== undefined ? { webUrl } : {}),
      ...(user !== undefined ? { user } : {}),
      pods,
      plans,
    },
    warnings: issues.warnings,
  };
}
