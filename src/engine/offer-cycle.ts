/**
 * One offer cycle (dcos-commons §3.3): status round → offers to working services → release of
 * unexpected reservations in unused offers (DESTROY before UNRESERVE) → decline the rest →
 * accept; the services' kill decisions go to the task killer. Returns what the runner should do
 * about revive/suppress.
 *
 * One service cannot spoil the cycle of the others: a service that throws is logged and left
 * out (the event client tells it), and a refused ACCEPT concerns only the services whose
 * operations that offer carried. Every other accept, the release of garbage, the declines and
 * the caller's revive/suppress still happen.
 */
import type { Offer, Operation } from "../domain/cluster.js";
import { cleanupOperations } from "../domain/offer/release.js";
import type { KillDecision, ManagedService } from "./managed-service.js";
import type { MultiServiceEventClient } from "./multi-service-event-client.js";
import type { ClusterDriver, Logger } from "./ports.js";
import type { Tracer } from "./telemetry.js";
import { serviceSpanAttributes } from "./span-services.js";

export interface CycleOptions {
  /** Refusal for unused offers when every service answered. @default 3600 */
  readonly declineLongS: number;
  /** Refusal when some service was not ready. @default 5 */
  readonly declineShortS: number;
}

export interface CycleDeps {
  readonly client: MultiServiceEventClient;
  readonly driver: ClusterDriver;
  readonly log: Logger;
  /** Sends a kill decision (the runner's TaskKiller, which retries until the task is dead). */
  readonly kill: (decision: KillDecision) => void;
  /** A span per service's offer evaluation (`engine.evaluateOffers`); absent when tracing is off. */
  readonly tracer?: Tracer;
}

export interface CycleOutcome {
  readonly working: boolean;
  readonly newWork: boolean;
  readonly accepted: number;
  readonly declined: number;
  readonly offered: number;
  /** Offers whose reservations were released as garbage (unknown or disowned namespaces). */
  readonly collected: number;
  /** The namespaces of those reservations. */
  readonly collectedNamespaces: readonly string[];
  /** ACCEPTs the cluster refused. */
  readonly refused: number;
  /** Services whose part of the cycle threw. */
  readonly failed: number;
}

export async function runOfferCycle(deps: CycleDeps, offers: readonly Offer[], options: CycleOptions): Promise<CycleOutcome> {
  const { client, driver, log } = deps;
  await client.prepare();
  const status = client.clientStatus();
  const working = status.kind === "WORKING";
  const result = await client.offers(working ? offers : [], deps.tracer);
  for (const decision of result.kills) deps.kill(decision);
  const accepts = new Map(result.operations);
  const unused = offers.filter((o) => !accepts.has(o.id));
  let collected = 0;
  const collectedNamespaces = new Set<string>();
  const failures = [...result.failures];
  const garbage = client.unexpectedResources(unused, failures);
  for (const { service, error } of failures) {
    log.error({ service, err: error }, "service failed in the offer cycle; nothing of it was applied, it is retried next cycle");
  }
  const frameworkOf = garbage.size > 0 ? new Map(unused.map((o) => [o.id, o.frameworkId])) : undefined;
  // With tracing: whose reservations each collected offer releases, for its ACCEPT's span.
  const garbageOwners = deps.tracer && garbage.size > 0 ? new Map<string, string[]>() : undefined;
  for (const [offerId, resources] of garbage) {
    accepts.set(offerId, cleanupOperations(resources));
    collected++;
    for (const r of resources) {
      const ns = client.reservationOwner(r, frameworkOf?.get(offerId) ?? "");
      if (ns !== undefined) collectedNamespaces.add(ns);
      if (ns !== undefined && garbageOwners) garbageOwners.set(offerId, [...(garbageOwners.get(offerId) ?? []), ns]);
    }
  }
  const declines = offers.filter((o) => !accepts.has(o.id)).map((o) => o.id);
  const acceptIds = [...accepts.keys()];
  // What an accepted offer leaves over comes straight back: another service is usually waiting.
  const calls = acceptIds.map((offerId) =>
    deps.tracer
      ? deps.tracer.inSpan("engine.acceptOffer", () => acceptAttributes(offerId, result.users.get(offerId), garbageOwners?.get(offerId)), () =>
          driver.accept([offerId], accepts.get(offerId)!, { refuseSeconds: 0 }),
        )
      : driver.accept([offerId], accepts.get(offerId)!, { refuseSeconds: 0 }),
  );
  if (declines.length > 0) {
    // Services left for the next cycle want these offers now: handed back without a filter.
    const refuseSeconds = result.capped ? 0 : result.ready && failures.length === 0 ? options.declineLongS : options.declineShortS;
    calls.push(driver.decline(declines, { refuseSeconds }));
  }
  const settled = await Promise.allSettled(calls);
  const refused: string[] = [];
  settled.forEach((s, i) => {
    if (s.status === "fulfilled") return;
    const offerId = acceptIds[i];
    if (offerId === undefined) {
      log.warn({ err: s.reason, offers: declines.length }, "decline failed; the offers come back when the cluster rescinds them");
      return;
    }
    refused.push(offerId);
    refuseAccept(deps, offerId, accepts.get(offerId)!, result.users.get(offerId) ?? [], s.reason);
  });
  if (refused.length > 0) {
    // The offers may still be held for us: handed back, their resources come again.
    await driver.decline(refused, { refuseSeconds: 0 }).catch((err: unknown) => log.debug({ err, offers: refused }, "handing back refused offers failed"));
  }
  return {
    working,
    // Refused launches want offers again.
    newWork: (status.kind === "WORKING" && status.newWork) || refused.some((id) => (result.users.get(id)?.length ?? 0) > 0),
    accepted: accepts.size - refused.length,
    declined: declines.length,
    offered: offers.length,
    collected,
    collectedNamespaces: [...collectedNamespaces],
    refused: refused.length,
    failed: failures.length,
  };
}

/** An ACCEPT's span names the services whose operations it carries: launches, reservations, or the garbage it releases. */
function acceptAttributes(offerId: string, users: readonly ManagedService[] | undefined, owners: readonly string[] | undefined): Record<string, string | number> {
  return { "corral.offer_id": offerId, ...serviceSpanAttributes([...(users ?? []).map((u) => u.name), ...(owners ?? [])]) };
}

/**
 * The cluster refused an ACCEPT: the services whose operations it carried are told, and the
 * tasks it launched are reconciled, since a failed call does not say whether they started.
 */
function refuseAccept(deps: CycleDeps, offerId: string, ops: readonly Operation[], users: readonly ManagedService[], err: unknown): void {
  const reason = `the cluster refused the offer's ACCEPT: ${err instanceof Error ? err.message : String(err)}`;
  deps.log.warn({ offerId, services: users.map((u) => u.name), err }, "ACCEPT refused; its services retry on later offers");
  for (const svc of users) {
    try {
      svc.acceptRefused(offerId, reason);
    } catch (error) {
      deps.log.error({ service: svc.name, err: error }, "service failed to take back a refused ACCEPT");
    }
  }
  const tasks = ops.flatMap((op) => (op.type === "LAUNCH_GROUP" ? op.tasks.map((t) => ({ taskId: t.taskId, agentId: t.agentId })) : []));
  if (tasks.length > 0) {
    deps.driver.reconcile(tasks).catch((error: unknown) => deps.log.warn({ err: error, offerId }, "reconciling a refused ACCEPT's tasks failed"));
  }
}
