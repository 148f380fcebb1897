/**
 * `plans:` (dcos-commons §4.2 "Plans", §1.12): plans of phases, each phase deploying one pod
 * type with a strategy and optional custom steps.
 */
import type { PhaseSpec, PlanSpec, PodSpec, StepsSpec, StrategyName } from "./types.js";
import type { Issues } from "./fields.js";
import {
  checkKeys,
  checkLimit,
  describe,
  isAbsent,
  readEnum,
  readList,
  readMap,
  readString,
  violate,
  warn,
} from "./fields.js";
import { SPEC_LIMITS } from "./limits.js";

const PLAN_STRATEGIES = ["serial", "parallel"] as const;
const PHASE_STRATEGIES = [
  "serial",
  "parallel",
  "canary",
  "serial-canary",
  "parallel-canary",
] as const;
const PLAN_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
export const PLAN_KEYS: readonly string[] = ["strategy", "phases"];
export const PHASE_KEYS: readonly string[] = ["pod", "strategy", "steps"];

type StepKey = number | "default";

/** Canary strategies wait for the operator's `continue` on their first two pending steps (§1.12). */
function parsePhaseStrategy(issues: Issues, field: string, value: unknown): StrategyName {
  return readEnum(issues, field, value, PHASE_STRATEGIES, "serial") ?? "serial";
}

function parseGroup(issues: Issues, field: string, value: unknown, pod: PodSpec): string[] {
  if (!Array.isArray(value)) {
    violate(issues, field, "each step must be a list of task names, e.g. [server]");
    return [];
  }
  if (value.length === 0) violate(issues, field, "a step must name at least one task");
  const names: string[] = [];
  value.forEach((raw, i) => {
    const task = pod.tasks.find((t) => t.name === raw);
    if (!task) {
      const known = pod.tasks.map((t) => t.name).join(", ");
      violate(
        issues,
        `${field}[${i}]`,
        `unknown task ${describe(raw)} in pod ${pod.type} (tasks: ${known})`,
      );
      return;
    }
    if (names.includes(task.name))
      violate(issues, `${field}[${i}]`, `task ${task.name} is listed twice`);
    // Tasks of one step launch together; one resource set cannot be reserved twice at once.
    const sharing = pod.tasks.find(
      (t) => names.includes(t.name) && t.resourceSetId === task.resourceSetId,
    );
    if (sharing && sharing.name !== task.name) {
      violate(
        issues,
        `${field}[${i}]`,
        `tasks ${sharing.name} and ${task.name} share resource set ${task.resourceSetId} ` +
          "and cannot be in one step",
      );
    }
    names.push(task.name);
  });
  return names;
}

function parseGroups(issues: Issues, field: string, value: unknown, pod: PodSpec): string[][] {
  const list = readList(issues, field, value) ?? [];
  if (list.length === 0) violate(issues, field, "must list at least one step, e.g. [[server]]");
  if (
    !checkLimit(issues, field, "maxStepsPerInstance", list.length, SPEC_LIMITS.maxStepsPerInstance)
  )
    return [];
  return list.map((group, i) => parseGroup(issues, `${field}[${i}]`, group, pod));
}

function stepKey(issues: Issues, field: string, key: string, pod: PodSpec): StepKey | undefined {
  if (key === "default") return key;
  if (!/^\d+$/.test(key))
    return violate(issues, field, "key must be a pod index (0, 1, …) or default");
  const index = Number(key);
  if (index >= pod.count)
    warn(issues, field, `pod index ${index} is beyond count ${pod.count}; not used`);
  return index;
}

function parseSteps(
  issues: Issues,
  field: string,
  value: unknown,
  pod: PodSpec,
): StepsSpec | undefined {
  const list = readList(issues, field, value);
  if (!list || list.length === 0) return undefined;
  const steps = new Map<StepKey, string[][]>();
  list.forEach((entry, i) => {
    const map = readMap(issues, `${field}[${i}]`, entry);
    const first = map && map.size === 1 ? [...map][0] : undefined;
    if (!first) {
      if (map)
        violate(
          issues,
          `${field}[${i}]`,
          "must be a single-key mapping: <pod index or default>: [[task, …], …]",
        );
      return;
    }
    const [key, groups] = first;
    const entryField = `${field}[${i}].${key}`;
    const index = stepKey(issues, entryField, key, pod);
    if (index === undefined) return;
    if (steps.has(index)) violate(issues, entryField, `steps for ${key} are already defined`);
    steps.set(index, parseGroups(issues, entryField, groups, pod));
  });
  if (!steps.has("default")) {
    const missing = Array.from({ length: pod.count }, (_, i) => i).filter((i) => !steps.has(i));
    if (missing.length > 0) {
      const shown =
        missing.length > 10 ? `${missing.slice(0, 10).join(", ")}, …` : missing.join(", ");
      violate(issues, field, `no steps for pod index ${shown} and no default entry`);
    }
  }
  return steps;
}

function parsePhase(
  issues: Issues,
  field: string,
  name: string,
  value: unknown,
  pods: readonly PodSpec[],
): PhaseSpec | undefined {
  const map = readMap(issues, field, value);
  if (!map) return undefined;
  checkKeys(issues, field, map, PHASE_KEYS);
  const podType = readString(issues, `${field}.pod`, map.get("pod"), true);
  const pod = pods.find((p) => p.type === podType);
  if (podType !== undefined && !pod) {
    violate(
      issues,
      `${field}.pod`,
      `unknown pod ${describe(podType)} (pods: ${pods.map((p) => p.type).join(", ")})`,
    );
  }
  const strategy = parsePhaseStrategy(issues, `${field}.strategy`, map.get("strategy"));
  const steps =
    pod && !isAbsent(map.get("steps"))
      ? parseSteps(issues, `${field}.steps`, map.get("steps"), pod)
      : undefined;
  return { name, pod: podType ?? "", strategy, ...(steps ? { steps } : {}) };
}

function parsePlan(
  issues: Issues,
  field: string,
  name: string,
  value: unknown,
  pods: readonly PodSpec[],
): PlanSpec | undefined {
  if (!PLAN_NAME.test(name))
    violate(issues, field, "plan name must use letters, digits, '_' and '-'");
  const map = readMap(issues, field, value);
  if (!map) return undefined;
  checkKeys(issues, field, map, PLAN_KEYS);
  const strategy =
    readEnum(issues, `${field}.strategy`, map.get("strategy"), PLAN_STRATEGIES, "serial") ??
    "serial";
  const phaseMap =
    readMap(issues, `${field}.phases`, map.get("phases")) ?? new Map<string, unknown>();
  if (phaseMap.size === 0) violate(issues, `${field}.phases`, "must define at least one phase");
  const limit = SPEC_LIMITS.maxPhasesPerPlan;
  if (!checkLimit(issues, `${field}.phases`, "maxPhasesPerPlan", phaseMap.size, limit)) {
    return undefined;
  }
  const phases = [...phaseMap].flatMap(([phaseName, raw]) => {
    const phase = parsePhase(issues, `${field}.phases.${phaseName}`, phaseName, raw, pods);
    return phase ? [phase] : [];
  });
  return { name, strategy, phases };
}

/** Parses `plans:` at `field` against the already parsed pods; absent ⇒ no plans. */
export function parsePlans(
  issues: Issues,
  field: string,
  value: unknown,
  pods: readonly PodSpec[],
): PlanSpec[] {
  const map = readMap(issues, field, value) ?? new Map<string, unknown>();
  if (!checkLimit(issues, field, "maxPlans", map.size, SPEC_LIMITS.maxPlans)) return [];
  return [...map].flatMap(([name, raw]) => {
    const plan = parsePlan(issues, `${field}.${name}`, name, raw, pods);
    return plan ? [plan] : [];
  });
}
