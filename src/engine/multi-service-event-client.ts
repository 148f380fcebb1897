/**
 * Routes cluster events to services (the reference's MultiServiceEventClient). Offers go to
 * working services in an order that rotates every cycle, so no service is starved by another
 * that sorts first; an offer one service used is not shown to the services after it.
 */
import type { Offer, Operation, Resource, TaskStatus } from "../domain/cluster.js";
import { LABEL_NAMESPACE } from "../domain/cluster.js";
import { reservationLabels } from "../domain/offer/pool.js";
import { tryParseTaskId } from "../domain/task-id.js";
import type { MultiServiceManager } from "./multi-service-manager.js";
import type { ClientStatus, ServiceScheduler } from "./service-scheduler.js";

export interface CycleOffers {
  /** Every service answered and placed what it wanted: unused offers may be declined for long. */
  readonly ready: boolean;
  readonly operations: ReadonlyMap<string, Operation[]>;
}

export class MultiServiceEventClient {
  private offerTargets: ServiceScheduler[] = [];
  private rotation = 0;

  constructor(private readonly manager: MultiServiceManager) {}

  /** Aggregate status of all services; also fixes which services get this cycle's offers. */
  clientStatus(): ClientStatus {
    const services = this.manager.services();
    const start = services.length === 0 ? 0 : this.rotation++ % services.length;
    const ordered = [...services.slice(start), ...services.slice(0, start)];
    this.offerTargets = [];
    let footprint = false;
    let newWork = false;
    for (const svc of ordered) {
      const status = svc.status();
      if (status.kind === "IDLE") continue;
      this.offerTargets.push(svc);
      footprint ||= status.footprint;
      newWork ||= status.newWork;
    }
    if (this.offerTargets.length === 0) return { kind: "IDLE" };
    return { kind: "WORKING", footprint, newWork };
  }

  async offers(offers: readonly Offer[]): Promise<CycleOffers> {
    const operations = new Map<string, Operation[]>();
    let remaining = [...offers];
    let ready = true;
    for (const svc of this.offerTargets) {
      // Once every offer is taken the rest of the line waits for the next cycle (its turn to
      // be first comes with the rotation).
      if (remaining.length === 0) break;
      if (this.manager.get(svc.name) !== svc) continue;
      const result = await svc.offers(remaining);
      ready &&= result.ready && result.unplaced === 0;
      for (const [id, ops] of result.operations) operations.set(id, [...(operations.get(id) ?? []), ...ops]);
      if (result.operations.size > 0) remaining = remaining.filter((o) => !result.operations.has(o.id));
    }
    return { ready, operations };
  }

  /**
   * Reserved resources in unused offers that should be released: those of services we do not
   * know, and those a known service disowns. Reservations without a namespace are never ours
   * to judge and are left alone.
   */
  unexpectedResources(offers: readonly Offer[]): Map<string, Resource[]> {
    const out = new Map<string, Resource[]>();
    for (const offer of offers) {
      const byService = new Map<string, Resource[]>();
      for (const r of offer.resources) {
        const ns = reservationLabels(r)?.[LABEL_NAMESPACE];
        if (ns === undefined) continue;
        byService.set(ns, [...(byService.get(ns) ?? []), r]);
      }
      const unexpected: Resource[] = [];
      for (const [ns, resources] of byService) {
        if (this.manager.isQuarantined(ns)) continue;
        const svc = this.manager.get(ns);
        unexpected.push(...(svc ? svc.unexpectedResources(resources) : resources));
      }
      if (unexpected.length > 0) out.set(offer.id, unexpected);
    }
    return out;
  }

  /** "unknown" tells the caller to kill the task: no service owns it. A quarantined service's tasks are left alone. */
  async taskStatus(status: TaskStatus): Promise<"processed" | "unknown"> {
    const parsed = tryParseTaskId(status.taskId);
    if (parsed?.service === undefined) return "unknown";
    const svc = this.manager.getBySanitized(parsed.service);
    if (svc) return svc.taskStatus(status);
    return this.manager.isQuarantined(parsed.service) ? "processed" : "unknown";
  }
}
