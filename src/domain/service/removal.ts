/**
 * The decision core of a service being removed (the reference's UninstallScheduler, §3.7):
 * kill every task not known dead; once all are dead, release every reservation of the service
 * that the offers show — labelled with its namespace, or ours without a namespace label that its
 * task records hold or, for the framework's default service, any (`reservation-owner.ts`) —
 * DESTROY its volumes, then UNRESERVE. Pure.
 */
import type { Offer, Resource } from "../cluster.js";
import { LABEL_RESOURCE_ID, isTerminal } from "../cluster.js";
import { reservationLabels } from "../offer/pool.js";
import { cleanupOperations } from "../offer/release.js";
import { reservationOwner } from "../reservation-owner.js";
import type { Plan } from "../plan/model.js";
import { buildUninstallPlan, killsDone } from "../plan/uninstall.js";
import type { KillDecision, ReleaseDecision } from "./model.js";
import { heldResourceIds } from "./plans.js";
import type { StoredTask } from "./task-record.js";
import { isPermanentlyFailed, mayBeLive } from "./task-record.js";

/** The uninstall plan from the task records and the reservations already released. */
export function removalPlan(tasks: ReadonlyMap<string, StoredTask>, released: ReadonlySet<string>, newId: () => string): Plan {
  // A record never reported on holds no reservations: they may never have existed. A permanently
  // failed one holds none either: they went with a removed agent, or as garbage once offered.
  const reservations = new Set([...tasks.values()].flatMap((t) => (isPermanentlyFailed(t) ? [] : heldResourceIds(t))));
  return buildUninstallPlan(
    [...tasks.values()].map((t) => ({ taskId: t.info.taskId, dead: t.status !== undefined && isTerminal(t.status.state) })),
    [...reservations].sort().map((resourceId) => ({ resourceId, released: released.has(resourceId) })),
    newId,
  );
}

export interface RemovalDecisions {
  readonly kills: readonly KillDecision[];
  /** Per offer, every reservation of the service in it (`stepIds` unused: the plan marks by resource id). */
  readonly releases: readonly ReleaseDecision[];
}

/**
 * What a removal does with these offers. `defaultService`: the service is the framework's
 * default service, owner of our reservations without a namespace label. Those its records hold
 * are its own in any case (their resource ids are ours): a removal resumed before anyone could
 * say which service is the default one still finishes.
 */
export function decideRemoval(name: string, plan: Plan, tasks: ReadonlyMap<string, StoredTask>, offers: readonly Offer[], defaultService = false): RemovalDecisions {
  const kills = [...tasks.values()]
    .filter(mayBeLive)
    .map((t): KillDecision => ({ taskId: t.info.taskId, agentId: t.info.agentId, reason: "removing the service" }));
  if (!killsDone(plan)) return { kills, releases: [] };
  const releases: ReleaseDecision[] = [];
  const held = new Set([...tasks.values()].flatMap(heldResourceIds));
  const owns = (r: Resource): string | undefined => (defaultService || held.has(reservationLabels(r)?.[LABEL_RESOURCE_ID] ?? "") ? name : undefined);
  for (const offer of offers) {
    const mine: Resource[] = offer.resources.filter((r) => reservationOwner(r, offer.frameworkId, owns(r)) === name);
    if (mine.length === 0) continue;
    const ids = mine.map((r) => reservationLabels(r)?.[LABEL_RESOURCE_ID] ?? "").filter((id) => id !== "");
    releases.push({ offerId: offer.id, operations: cleanupOperations(mine), resourceIds: ids, stepIds: [] });
  }
  return { kills, releases };
}
