/**
 * One offer cycle (dcos-commons §3.3): status round → offers to working services → release of
 * unexpected reservations in unused offers (DESTROY before UNRESERVE) → decline the rest →
 * accept. Returns what the runner should do about revive/suppress.
 */
import type { Offer, Operation } from "../domain/cluster.js";
import { LABEL_NAMESPACE } from "../domain/cluster.js";
import { reservationLabels } from "../domain/offer/pool.js";
import { cleanupOperations } from "../domain/offer/release.js";
import type { MultiServiceEventClient } from "./multi-service-event-client.js";
import type { ClusterDriver } from "./ports.js";

export interface CycleOptions {
  /** Refusal for unused offers when every service answered. @default 3600 */
  readonly declineLongS: number;
  /** Refusal when some service was not ready. @default 5 */
  readonly declineShortS: number;
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
}

export async function runOfferCycle(
  client: MultiServiceEventClient,
  driver: ClusterDriver,
  offers: readonly Offer[],
  options: CycleOptions,
): Promise<CycleOutcome> {
  const status = client.clientStatus();
  const working = status.kind === "WORKING";
  const result = working ? await client.offers(offers) : { ready: true, operations: new Map<string, Operation[]>() };
  const accepts = new Map(result.operations);
  const unused = offers.filter((o) => !accepts.has(o.id));
  let collected = 0;
  const collectedNamespaces = new Set<string>();
  for (const [offerId, resources] of client.unexpectedResources(unused)) {
    accepts.set(offerId, cleanupOperations(resources));
    collected++;
    for (const r of resources) {
      const ns = reservationLabels(r)?.[LABEL_NAMESPACE];
      if (ns !== undefined) collectedNamespaces.add(ns);
    }
  }
  const declines = offers.filter((o) => !accepts.has(o.id)).map((o) => o.id);
  const calls: Promise<void>[] = [];
  // What an accepted offer leaves over comes straight back: another service is usually waiting.
  for (const [offerId, ops] of accepts) calls.push(driver.accept([offerId], ops, { refuseSeconds: 0 }));
  if (declines.length > 0) {
    const refuseSeconds = result.ready ? options.declineLongS : options.declineShortS;
    calls.push(driver.decline(declines, { refuseSeconds }));
  }
  await Promise.all(calls);
  return {
    working,
    newWork: status.kind === "WORKING" && status.newWork,
    accepted: accepts.size,
    declined: declines.length,
    offered: offers.length,
    collected,
    collectedNamespaces: [...collectedNamespaces],
  };
}
