/**
 * The launch recorder of a running service: what one offer cycle's decisions write — the
 * TaskInfos launched, task records whose released reservations are pruned, decommissioned
 * records erased — stored (in one multi with other services' launches) before any operation
 * leaves, and what the service notes once they are.
 */
import { LABEL_RESOURCE_ID } from "../domain/cluster.js";
import { reservationLabels } from "../domain/offer/pool.js";
import type { Step } from "../domain/plan/model.js";
import { markLaunched } from "../domain/plan/step.js";
import type { ServiceDecisions } from "../domain/service/model.js";
import type { StoredTask, TaskSlot } from "../domain/service/task-record.js";
import type { PreparedLaunches } from "./managed-service.js";
import type { StateStore } from "./store/state-store.js";

export interface LaunchTarget {
  readonly tasks: Map<string, StoredTask>;
  readonly slots: ReadonlyMap<string, TaskSlot>;
  readonly store: StateStore;
  step(id: string): Step | undefined;
  /** Once stored: the steps launched on each offer. */
  launched(byOffer: Map<string, string[]>): void;
}

export function prepareLaunches(t: LaunchTarget, d: ServiceDecisions): PreparedLaunches | undefined {
  if (d.launches.length === 0 && d.releases.length === 0 && d.erases.length === 0) return undefined;
  const infos = d.launches.flatMap((l) => l.tasks);
  const inPlace = new Set(d.launches.flatMap((l) => l.inPlace));
  // Released reservations leave the records, so a restarted scheduler does not wait for them.
  const released = new Set(d.releases.flatMap((r) => r.resourceIds));
  const pruned =
    released.size === 0
      ? []
      : [...t.tasks.values()].flatMap((s): StoredTask[] => {
          const keep = s.info.resources.filter((r) => !released.has(reservationLabels(r)?.[LABEL_RESOURCE_ID] ?? ""));
          return keep.length === s.info.resources.length ? [] : [{ ...s, info: { ...s.info, resources: keep } }];
        });
  const erased = d.erases.flatMap((e) => e.tasks);
  return {
    ops: [
      ...t.store.storeTasksOps(infos, inPlace),
      ...pruned.flatMap((s) => t.store.taskInfoOps(s.info)),
      ...erased.flatMap((n) => t.store.eraseTaskOps(n)),
    ],
    apply: () => {
      const byOffer = new Map<string, string[]>();
      for (const l of d.launches) {
        const ids = new Map<string, string>();
        for (const info of l.tasks) {
          t.tasks.set(info.name, { info, confirmed: inPlace.has(info.name) });
          const slot = t.slots.get(info.name);
          if (slot) ids.set(slot.task.name, info.taskId);
        }
        const step = t.step(l.stepId);
        if (step) markLaunched(step, ids);
        byOffer.set(l.offerId, [...(byOffer.get(l.offerId) ?? []), l.stepId]);
      }
      for (const s of pruned) t.tasks.set(s.info.name, s);
      for (const n of erased) t.tasks.delete(n);
      for (const id of [...d.releases.flatMap((r) => r.stepIds), ...d.erases.flatMap((e) => e.stepIds)]) {
        const step = t.step(id);
        if (step) {
          step.status = "COMPLETE";
          step.message = "";
        }
      }
      t.launched(byOffer);
    },
  };
}
