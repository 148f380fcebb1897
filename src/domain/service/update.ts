/**
 * A new target config for a running service (dcos-commons §1.13, §3.4): validated against the
 * current one, and what it changes. Task records of pods the change leaves equivalent are
 * relabelled to the new config, so they are not redeployed; the plans start from the records,
 * so a step whose tasks already run an equivalent config is COMPLETE at once, a changed pod's
 * step relaunches it in place, an added instance deploys, and a removed one is decommissioned.
 * Configs no record and not the target reference are named for deletion. Pure.
 */
import { LABEL_TARGET_CONFIG } from "../cluster.js";
import type { FieldViolation } from "../errors.js";
import type { NewId } from "../plan/build.js";
import { podChanges, podsEquivalent, validateConfigUpdate } from "../spec/config-update.js";
import type { ServiceSpec } from "../spec/types.js";
import type { ServicePlans } from "./plans.js";
import { buildServicePlans } from "./plans.js";
import type { StoredTask } from "./task-record.js";
import { onConfig, taskSlots } from "./task-record.js";
import { LABEL_INDEX, LABEL_TASK_TYPE } from "../offer/task-info.js";

export interface UpdateInput {
  readonly current: {
    readonly spec: ServiceSpec;
    readonly configId: string;
    readonly tasks: ReadonlyMap<string, StoredTask>;
    /** A deployment of the service has completed: the spec's `update` plan (if any) deploys the change. */
    readonly deployCompleted: boolean;
  };
  readonly next: { readonly spec: ServiceSpec; readonly configId: string };
  readonly newId: NewId;
}

export interface UpdatePlanning {
  /** Why the change is refused; when non-empty, nothing else is worked out. */
  readonly violations: readonly FieldViolation[];
  /** Pod instances (`hello-0`) with tasks that are killed and relaunched in place. */
  readonly relaunched: readonly string[];
  /** Pod instances the change adds. */
  readonly added: readonly string[];
  /** Pod instances with tasks that are decommissioned. */
  readonly decommissioned: readonly string[];
  /** Every task record after the change (relabelled ones included). */
  readonly tasks: Map<string, StoredTask>;
  /** The records relabelled to the new config: to store with it. */
  readonly relabelled: readonly StoredTask[];
  readonly plans: ServicePlans;
  /** Config ids neither the new target nor any record references. */
  readonly obsoleteConfigs: readonly string[];
}

function podInstance(t: StoredTask): string {
  return `${t.info.labels[LABEL_TASK_TYPE] ?? ""}-${t.info.labels[LABEL_INDEX] ?? ""}`;
}

export function planUpdate(input: UpdateInput): UpdatePlanning {
  const { current, next } = input;
  const violations = validateConfigUpdate(current.spec, next.spec, { deployCompleted: current.deployCompleted });
  const changes = podChanges(current.spec, next.spec);
  const withRecords = new Set([...current.tasks.values()].map(podInstance));
  const slots = taskSlots(next.spec);
  const tasks = new Map<string, StoredTask>();
  const relabelled: StoredTask[] = [];
  for (const [name, t] of current.tasks) {
    const slot = slots.get(name);
    const before = current.spec.pods.find((p) => p.type === slot?.pod.type);
    const same = slot !== undefined && before !== undefined && onConfig(t, current.configId) && podsEquivalent(before, slot.pod);
    if (!same || onConfig(t, next.configId)) {
      tasks.set(name, t);
      continue;
    }
    const info = { ...t.info, labels: { ...t.info.labels, [LABEL_TARGET_CONFIG]: next.configId } };
    const moved = { ...t, info };
    tasks.set(name, moved);
    relabelled.push(moved);
  }
  const referenced = (records: Iterable<StoredTask>, target: string): Set<string> =>
    new Set([target, ...[...records].map((t) => t.info.labels[LABEL_TARGET_CONFIG] ?? "")].filter((id) => id !== ""));
  const after = referenced(tasks.values(), next.configId);
  return {
    violations,
    relaunched: changes.relaunched.filter((p) => withRecords.has(p)),
    added: changes.added,
    decommissioned: changes.removed.filter((p) => withRecords.has(p)),
    tasks,
    relabelled,
    plans: buildServicePlans(next.spec, next.configId, tasks, input.newId, { update: current.deployCompleted }),
    obsoleteConfigs: [...referenced(current.tasks.values(), current.configId)].filter((id) => !after.has(id)),
  };
}
