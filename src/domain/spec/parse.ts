/**
 * Rendered ServiceSpec YAML → validated ServiceSpec (dcos-commons §4.2). One pass collects every
 * violation, so a user fixes a spec in one round trip; keys Corral does not act on yet come back
 * as warnings instead of being rejected or dropped.
 */
import type { Document } from "yaml";
import { LineCounter, parseDocument } from "yaml";
import { SchedulerError } from "../errors.js";
import type { FieldViolation } from "../errors.js";
import { validateServiceName } from "../names.js";
import type { ParsedSpec, PodSpec, SpecWarning } from "./types.js";
import type { Issues } from "./fields.js";
import { checkKeys, checkLimit, readMap, readString, violate, warn } from "./fields.js";
import { SPEC_LIMITS } from "./limits.js";
import { parsePlans } from "./parse-plan.js";
import { parsePod } from "./parse-pod.js";
import type { YamlDocCache } from "./yaml-cache.js";

export { SPEC_LIMITS } from "./limits.js";
export { YamlDocCache } from "./yaml-cache.js";

/**
 * Lets texts of one family (e.g. one template and its parameters, rendered for many service
 * names of one length) share a parsed YAML document; see `YamlDocCache`. Results are the same
 * with and without it.
 */
export interface SpecReuse {
  readonly cache: YamlDocCache;
  readonly family: string;
}

const FIELD = "spec";
const EMPTY = "is empty; a spec needs at least name and pods";

function where(lines: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return "";
  const { line, col } = lines.linePos(offset);
  return ` (line ${line}, column ${col})`;
}

/**
 * Parses the text into a tree of Maps (source key order), lists and strings. The failsafe
 * schema keeps every scalar as written; `fields.ts` converts numbers and booleans.
 */
function loadYaml(text: string, warnings: SpecWarning[], reuse?: SpecReuse): unknown {
  if (text.length > SPEC_LIMITS.maxSpecChars) {
    const limit = SPEC_LIMITS.maxSpecChars;
    const reason = `exceeds SPEC_LIMITS.maxSpecChars (at most ${limit}, got ${text.length})`;
    throw SchedulerError.invalid([{ field: FIELD, reason }]);
  }
  // A reused document parsed without errors or warnings, and so would this text.
  const reused = reuse?.cache.documentFor(reuse.family, text);
  if (reused) return toTree(reused);
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    schema: "failsafe",
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter: lines,
  });
  const errors: FieldViolation[] = doc.errors.map((e) => ({
    field: FIELD,
    reason: `YAML syntax error: ${e.message}${where(lines, e.pos[0])}`,
  }));
  if (errors.length > 0) throw SchedulerError.invalid(errors);
  for (const w of doc.warnings)
    warnings.push({ field: FIELD, message: `${w.message}${where(lines, w.pos[0])}` });
  const tree = toTree(doc);
  if (reuse && !reuse.cache.has(reuse.family)) reuse.cache.remember(reuse.family, text, doc);
  return tree;
}

function toTree(doc: Document): unknown {
  try {
    return doc.toJS({ mapAsMap: true, maxAliasCount: SPEC_LIMITS.maxAliasCount });
  } catch (err) {
    // yaml signals alias expansion beyond maxAliasCount with a ReferenceError.
    if (!(err instanceof ReferenceError)) throw err;
    const limit = SPEC_LIMITS.maxAliasCount;
    const reason = `too many YAML alias expansions (SPEC_LIMITS.maxAliasCount is ${limit})`;
    throw new SchedulerError("invalid_argument", `${FIELD}: ${reason}`, {
      cause: err,
      violations: [{ field: FIELD, reason }],
    });
  }
}

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
  checkKeys(issues, field, map, ["user"], ["principal", "zookeeper"]);
  return readString(issues, `${field}.user`, map.get("user"), false);
}

function parsePods(issues: Issues, value: unknown): PodSpec[] {
  const field = `${FIELD}.pods`;
  const map = readMap(issues, field, value);
  if (!map) return [];
  if (map.size === 0) violate(issues, field, "must define at least one pod");
  if (!checkLimit(issues, field, "maxPods", map.size, SPEC_LIMITS.maxPods)) return [];
  const pods = [...map].flatMap(([type, raw]) => {
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
  checkKeys(issues, FIELD, root, ["name", "scheduler", "pods", "plans", "user"], ["web-url"]);
  if (root.has("user"))
    warn(issues, `${FIELD}.user`, "unknown key, ignored; the service user is scheduler.user");
  const name = parseName(issues, root.get("name"));
  const user = parseScheduler(issues, root.get("scheduler"));
  const pods = parsePods(issues, root.get("pods"));
  const plans = parsePlans(issues, `${FIELD}.plans`, root.get("plans"), pods);
  if (issues.violations.length > 0) throw SchedulerError.invalid(issues.violations);
  return {
    spec: { name, ...(user !== undefined ? { user } : {}), pods, plans },
    warnings: issues.warnings,
  };
}
