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
import type { PersisterOp } from "./ports.js";
import type { ManagedService } from "./multi-service-manager.js";
import type { PreparedRemovalStatus } from "./service-removal.js";
import type { ClientStatus, PreparedLaunches, PreparedStatus } from "./service-scheduler.js";
import { SchedulerError } from "../domain/errors.js";

export interface CycleOffers {
  /** Every service answered and placed what it wanted: unused offers may be declined for long. */
  readonly ready: boolean;
  readonly operations: ReadonlyMap<string, Operation[]>;
}

/** What became of one status of a batch (`taskStatuses`). */
export interface StatusOutcome {
  readonly status: TaskStatus;
  /** "unknown": no service owns the task; the caller should kill it. */
  readonly answer: "processed" | "unknown";
}

/** A batch's statuses are stored in multis of at most this many value bytes (ZooKeeper allows < 1 MiB per request). */
export const MAX_STATUS_MULTI_BYTES = 256 * 1024;

export class MultiServiceEventClient {
  private offerTargets: ManagedService[] = [];
  private rotation = 0;

  /** `persist` writes ops in one multi (the scheduler's persister). */
  constructor(
    private readonly manager: MultiServiceManager,
    private readonly persist: (ops: readonly PersisterOp[]) => Promise<void> = () =>
      Promise.reject(new SchedulerError("internal", "event client has no persister")),
    /** A launch write failed: its operations were not sent. */
    private readonly onWriteError?: (err: unknown) => void,
  ) {}

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
    const launches: { readonly launches: PreparedLaunches; readonly offerIds: readonly string[] }[] = [];
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
      if (result.launches) launches.push({ launches: result.launches, offerIds: [...result.operations.keys()] });
      if (result.operations.size > 0) remaining = remaining.filter((o) => !result.operations.has(o.id));
    }
    // Every service's TaskInfos of this cycle in as few multis as fit (one fsync on SQLite),
    // before any operation leaves; what could not be stored is not sent.
    const { stored, error } = await this.storeInChunks(launches.map((l) => l.launches.ops));
    if (error !== undefined) this.onWriteError?.(error);
    launches.forEach((l, i) => {
      if (i < stored) l.launches.apply();
      else for (const id of l.offerIds) operations.delete(id);
    });
    return { ready: ready && stored === launches.length, operations };
  }

  /**
   * Writes groups of ops in order, in multis of ≤ MAX_STATUS_MULTI_BYTES, a group never split.
   * Returns how many groups were stored; after a failed multi, its groups and the later ones were not.
   */
  private async storeInChunks(groups: readonly (readonly PersisterOp[])[]): Promise<{ stored: number; error?: unknown }> {
    let start = 0;
    while (start < groups.length) {
      let end = start;
      let bytes = 0;
      const ops: PersisterOp[] = [];
      while (end < groups.length) {
        const size = opBytes(groups[end]!);
        if (end > start && bytes + size > MAX_STATUS_MULTI_BYTES) break;
        bytes += size;
        ops.push(...groups[end]!);
        end++;
      }
      if (ops.length > 0) {
        try {
          await this.persist(ops);
        } catch (error) {
          return { stored: start, error };
        }
      }
      start = end;
    }
    return { stored: start };
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

  /**
   * Many statuses at once: every status a service owns is stored — all of them in one multi
   * (split only past MAX_STATUS_MULTI_BYTES) — and only then applied to its service. Returns
   * the outcome of each status whose write succeeded (in input order); `error` is set when a
   * multi failed: its statuses and all later ones were neither applied nor returned, so the
   * caller must not acknowledge them (the cluster sends them again).
   */
  async taskStatuses(statuses: readonly TaskStatus[]): Promise<{ done: StatusOutcome[]; error?: unknown }> {
    type Entry = { status: TaskStatus; prepared?: PreparedStatus | PreparedRemovalStatus; answer: "processed" | "unknown" };
    const entries: Entry[] = statuses.map((status) => {
      const parsed = tryParseTaskId(status.taskId);
      if (parsed?.service === undefined) return { status, answer: "unknown" };
      const svc = this.manager.getBySanitized(parsed.service);
      if (!svc) return { status, answer: this.manager.isQuarantined(parsed.service) ? "processed" : "unknown" };
      const prepared = svc.prepareStatus(status);
      return prepared === "unknown" ? { status, answer: "unknown" } : { status, prepared, answer: "processed" };
    });
    const { stored, error } = await this.storeInChunks(entries.map((e) => e.prepared?.ops ?? []));
    // The service may have been replaced meanwhile (a repair): apply to the one prepared.
    const done = entries.slice(0, stored).map((e) => ({ status: e.status, answer: e.prepared ? applyPrepared(e.prepared) : e.answer }));
    return error === undefined ? { done } : { done, error };
  }
}

function applyPrepared(p: PreparedStatus | PreparedRemovalStatus): "processed" | "unknown" {
  return "confirmed" in p ? p.service.applyStatus(p) : p.service.applyStatus(p);
}

function opBytes(ops: readonly PersisterOp[]): number {
  return ops.reduce((n, op) => n + (op.kind === "set" || op.kind === "create" ? op.data.byteLength : 0), 0);
}
