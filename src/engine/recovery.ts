/**
 * Recovery planning (reference DefaultRecoveryPlanManager, transient recovery only): a pod
 * instance with a dead RUNNING-goal task that no plan is working on gets a recovery phase of
 * one step, named like the deploy step, that relaunches the dead tasks on the pod's existing
 * reservations. FINISH/ONCE tasks are retried by their deploy step, never here.
 */
import type { Phase, Plan } from "../domain/plan/model.js";
import { newStep } from "../domain/plan/model.js";
import { stepName } from "../domain/task-id.js";
import type { TaskSlot } from "./service-tasks.js";
import { needsRecovery } from "./service-tasks.js";
import type { StoredTask } from "./store/state-store.js";

export interface RecoveryPlanning {
  readonly phases: Phase[];
  /** A dead task waited because its pod instance is still being worked on: look again later. */
  readonly deferred: boolean;
}

function podKey(podType: string, index: number): string {
  return `${podType}-${index}`;
}

export function planRecovery(
  plans: readonly Plan[],
  tasks: ReadonlyMap<string, StoredTask>,
  slots: ReadonlyMap<string, TaskSlot>,
  newId: () => string,
): RecoveryPlanning {
  const busy = new Set<string>();
  for (const plan of plans) {
    for (const phase of plan.phases) {
      for (const s of phase.steps) if (s.status !== "COMPLETE") busy.add(podKey(s.podType, s.podIndex));
    }
  }
  let deferred = false;
  const failed = new Map<string, { slot: TaskSlot; names: string[] }>();
  for (const [instance, stored] of tasks) {
    const slot = slots.get(instance);
    if (!slot || !needsRecovery(stored, slot.task)) continue;
    const pod = podKey(slot.pod.type, slot.index);
    if (busy.has(pod)) {
      deferred = true;
      continue;
    }
    const entry = failed.get(pod) ?? { slot, names: [] };
    entry.names.push(slot.task.name);
    failed.set(pod, entry);
  }
  const phases = [...failed.values()].map(({ slot, names }) => {
    const name = stepName(slot.pod.type, slot.index, names);
    const step = newStep(newId(), name, slot.pod.type, slot.index, names);
    return { id: newId(), name, strategy: "serial" as const, steps: [step] };
  });
  return { phases, deferred };
}
