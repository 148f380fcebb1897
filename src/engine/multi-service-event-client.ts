/**
 * Routes cluster events to services (the reference's MultiServiceEventClient). Offers go to
 * working services in an order that rotates every cycle, so no service is starved by another
 * that sorts first; an offer one service used is not shown to the services after it.
 * Reservations without a namespace label and task IDs without a service (`name__uuid`) belong
 * to the framework's default service, if there is one (`reservation-owner.ts`).
 */
import type { Offer, Operation, Resource, TaskStatus } from "../domain/cluster.js";
import { LABEL_FRAMEWORK_ID } from "../domain/cluster.js";
import { sanitizeServiceName } from "../domain/names.js";
import { reservationLabels } from "../domain/offer/pool.js";
import { reservationOwner } from "../domain/reservation-owner.js";
import { tryParseTaskId } from "../domain/task-id.js";
import type { DeployLimit } from "./deploy-limit.js";
import { offerRemainder } from "../domain/offer/remainder.js";
import { ownReservations } from "./deploy-limit.js";
import type { ClientStatus, KillDecision, ManagedService, PreparedLaunches, PreparedStatus } from "./managed-service.js";
import type { MultiServiceManager } from "./multi-service-manager.js";
import type { PersisterOp } from "./ports.js";
import { SchedulerError } from "../domain/errors.js";
import type { Tracer } from "./telemetry.js";
import { SERVICE_ATTRIBUTE } from "./telemetry.js";

/** A service whose part of the cycle threw; nothing of it was applied. */

/**
 * Services whose turn with offers is a span of its own, at most, per cycle: a cycle offering to
 * a thousand services stays a trace of a few dozen spans, not a thousand.
 */
export const MAX_TRACED_TURNS = 32;

/** Services that may launch in one cycle, at least (or one per offer when there are more offers). */
export const MIN_LAUNCHERS_PER_CYCLE = 128;

export interface ServiceFailure {
  readonly service: string;
  readonly error: unknown;
}

export interface CycleOffers {
  /** Every service answered and placed what it wanted: unused offers may be declined for long. */
  readonly ready: boolean;
  readonly operations: ReadonlyMap<string, Operation[]>;
  /** The services whose operations (launches, releases) an offer carries: told when its ACCEPT is refused. */
  readonly users: ReadonlyMap<string, readonly ManagedService[]>;
  /** Kill decisions of the services, to send whether or not offers came. */
  readonly kills: readonly KillDecision[];
  /** Services that threw this cycle (in status or offers); each was told with `cycleFailed`. */
  readonly failures: readonly ServiceFailure[];
  /** Services were left for the next cycle (the per-cycle cap): unused offers must come back at once. */
  readonly capped: boolean;
}

/** What became of one status of a batch (`taskStatuses`). */
export interface StatusOutcome {
  readonly status: TaskStatus;
  /** "unknown": no service owns the task; the caller should kill it. */
  readonly answer: "processed" | "unknown";
}

/** A batch's statuses are stored in multis of at most this many value bytes (ZooKeeper allows < 1 MiB per request). */
export const MAX_STATUS_MULTI_BYTES = 256 * 1024;

/** A working service of this cycle, and whether it wants footprint (new reservations). */
interface OfferTarget {
  readonly svc: ManagedService;
  readonly footprint: boolean;
}

export class MultiServiceEventClient {
  private offerTargets: OfferTarget[] = [];
  /** Failures of `clientStatus`, reported with the next `offers`. */
  private statusFailures: ServiceFailure[] = [];
  private rotation = 0;

  /** `persist` writes ops in one multi (the scheduler's persister). */
  constructor(
    private readonly manager: MultiServiceManager,
    private readonly persist: (ops: readonly PersisterOp[]) => Promise<void> = () =>
      Promise.reject(new SchedulerError("internal", "event client has no persister")),
    /** A launch write failed: its operations were not sent. */
    private readonly onWriteError?: (err: unknown) => void,
    /** `--max-parallel-deploys`; none: every service may acquire resources. */
    private readonly limit?: DeployLimit,
    /** The framework's name (its default service's); none: no default service. */
    private readonly frameworkName?: string,
  ) {}

  /**
   * The framework's default service (§1.3): the one whose sanitized name is the framework's;
   * undefined when there is none (or it is quarantined).
   */
  defaultService(): ManagedService | undefined {
    const key = this.defaultKey();
    return key === undefined ? undefined : this.manager.getBySanitized(key);
  }

  /** The default service's sanitized name (the framework's). */
  private defaultKey(): string | undefined {
    if (this.frameworkName === undefined) return undefined;
    return (this.sanitizedFramework ??= sanitizeServiceName(this.frameworkName));
  }

  private sanitizedFramework: string | undefined;

  /** The service owning reserved resource `r` of an offer to framework `frameworkId` (`reservation-owner.ts`). */
  reservationOwner(r: Resource, frameworkId: string): string | undefined {
    return reservationOwner(r, frameworkId, this.defaultService()?.name);
  }

  /** Before a cycle's status round: the deployment limit's stored slots are read (once). */
  async prepare(): Promise<void> {
    await this.limit?.load();
  }

  /**
   * Aggregate status of all services; also fixes which services get this cycle's offers. A
   * service whose status throws is left out of this cycle (reported by the next `offers`).
   */
  clientStatus(): ClientStatus {
    const services = this.manager.services();
    const start = services.length === 0 ? 0 : this.rotation++ % services.length;
    const ordered = [...services.slice(start), ...services.slice(0, start)];
    this.offerTargets = [];
    this.statusFailures = [];
    // For the deployment limit, in arrival order: whether each wants footprint (undefined: failed).
    const round = this.limit ? new Map(services.map((svc) => [svc.name, undefined as boolean | undefined])) : undefined;
    let footprint = false;
    let newWork = false;
    for (const svc of ordered) {
      let status;
      try {
        status = svc.status();
      } catch (error) {
        this.fail(svc, error, this.statusFailures);
        continue;
      }
      round?.set(svc.name, status.kind === "WORKING" && status.footprint);
      if (status.kind === "IDLE") {
        if (this.limit) svc.deploySlot?.(undefined);
        continue;
      }
      this.offerTargets.push({ svc, footprint: status.footprint });
      footprint ||= status.footprint;
      newWork ||= status.newWork;
    }
    // A service admitted to a deploy slot has new work: the offers it now may use.
    if (round && this.limit!.round(round)) newWork = true;
    if (this.offerTargets.length === 0) return { kind: "IDLE" };
    return { kind: "WORKING", footprint, newWork };
  }

  /**
   * Offers to the working services, in turn. Every working service is called, with what earlier
   * services left of each offer (offerRemainder): its kill decisions flow regardless.
   * A service that throws is told (`cycleFailed`) and skipped: the offers go on to the next.
   * With `tracer`, each service's turn with offers is a span naming it (`engine.evaluateOffers`),
   * for the first MAX_TRACED_TURNS services given offers.
   */
  async offers(offers: readonly Offer[], tracer?: Tracer): Promise<CycleOffers> {
    const operations = new Map<string, Operation[]>();
    const used: { readonly svc: ManagedService; readonly launches?: PreparedLaunches; readonly offerIds: readonly string[] }[] = [];
    const kills: KillDecision[] = [];
    const failures = this.statusFailures;
    this.statusFailures = [];
    let remaining = offers;
    let ready = failures.length === 0;
    await this.limit?.persist();
    let own: Map<string, Offer[]> | undefined;
    const taken = new Set<string>();
    const byDefault = this.defaultService();
    let capped = false;
    let launchers = 0;
    let traced = 0;
    for (const { svc, footprint } of this.offerTargets) {
      if (this.manager.get(svc.name) !== svc) continue;
      svc.defaultService?.(svc === byDefault);
      // Without a deploy slot a service is offered only its own reservations.
      const wait = footprint ? this.limit?.waitReason(svc.name) : undefined;
      // Past the cap the rest wait for the next cycle (it follows at once, on the offers' leftovers):
      // one cycle stays short however many services could share an offer.
      // Launches are what costs (TaskInfos built and stored); releases of removals are cheap.
      const full = launchers >= Math.max(MIN_LAUNCHERS_PER_CYCLE, offers.length);
      capped ||= full && remaining.length > 0;
      let given = full ? [] : remaining;
      if (this.limit) {
        svc.deploySlot?.(wait);
        if (wait !== undefined) given = ((own ??= ownReservations(offers, byDefault?.name)).get(svc.name) ?? []).filter((o) => !taken.has(o.id));
      }
      let result;
      try {
        // A turn without offers (past the cap, waiting for a deploy slot) is no span: there are many and nothing is placed.
        result =
          tracer && given.length > 0 && traced++ < MAX_TRACED_TURNS
            ? await tracer.inSpan("engine.evaluateOffers", { [SERVICE_ATTRIBUTE]: svc.name, "corral.offers": given.length }, () => svc.offers(given))
            : await svc.offers(given);
      } catch (error) {
        this.fail(svc, error, failures);
        // It wants offers again soon: unused ones are declined short.
        ready = false;
        continue;
      }
      ready &&= result.ready && result.unplaced === 0;
      if (result.kills) kills.push(...result.kills);
      // Writes without operations (an erasure on its own) are stored and applied all the same.
      if (result.operations.size === 0 && !result.launches) continue;
      for (const [id, ops] of result.operations) {
        const before = operations.get(id);
        operations.set(id, before === undefined ? ops : [...before, ...ops]);
      }
      used.push({ svc, ...(result.launches ? { launches: result.launches } : {}), offerIds: [...result.operations.keys()] });
      if (result.launches) launchers++;
      // The next services use what the operations left of each offer: one ACCEPT carries them all.
      remaining = remaining.flatMap((o) => {
        const ops = result.operations.get(o.id);
        if (ops === undefined) return [o];
        const rest = offerRemainder(o, ops);
        return rest ? [rest] : [];
      });
      for (const id of result.operations.keys()) taken.add(id);
    }
    // Every service's TaskInfos of this cycle in as few multis as fit (one fsync on SQLite),
    // before any operation leaves; what could not be stored is not sent.
    const launching = used.filter((u) => u.launches !== undefined);
    const { stored, error } = await this.storeInChunks(launching.map((u) => u.launches!.ops));
    if (error !== undefined) this.onWriteError?.(error);
    const dropped = new Set<ManagedService>();
    launching.forEach((u, i) => {
      if (i >= stored) dropped.add(u.svc);
      else {
        try {
          u.launches!.apply();
        } catch (err) {
          // Stored but unknown to the service: sent, its tasks would run unowned.
          this.fail(u.svc, err, failures);
          dropped.add(u.svc);
        }
      }
    });
    const users = new Map<string, ManagedService[]>();
    for (const u of used) {
      for (const id of u.offerIds) {
        if (dropped.has(u.svc)) operations.delete(id);
        else users.set(id, [...(users.get(id) ?? []), u.svc]);
      }
    }
    return { ready: ready && dropped.size === 0, operations, users, kills, failures, capped };
  }

  private fail(svc: ManagedService, error: unknown, failures: ServiceFailure[]): void {
    failures.push({ service: svc.name, error });
    try {
      svc.cycleFailed(error instanceof Error ? error.message : String(error));
    } catch (err) {
      failures.push({ service: svc.name, error: err });
    }
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
   * know, and those a known service disowns. Reservations without a namespace are the default
   * service's to judge; without one they are left alone. A service that throws is added to
   * `failures` and told.
   */
  unexpectedResources(offers: readonly Offer[], failures: ServiceFailure[] = []): Map<string, Resource[]> {
    const out = new Map<string, Resource[]>();
    const byDefault = this.defaultService()?.name;
    for (const offer of offers) {
      const byService = new Map<string, Resource[]>();
      for (const r of offer.resources) {
        const labels = reservationLabels(r);
        const ns = reservationOwner(r, offer.frameworkId, byDefault);
        if (ns === undefined) continue;
        // Another framework sharing the role owns it: never ours to collect (dcos-commons PR #3213 destroyed them).
        const owner = labels?.[LABEL_FRAMEWORK_ID];
        if (owner !== undefined && owner !== offer.frameworkId) continue;
        byService.set(ns, [...(byService.get(ns) ?? []), r]);
      }
      const unexpected: Resource[] = [];
      for (const [ns, resources] of byService) {
        if (this.manager.isQuarantined(ns)) continue;
        const svc = this.manager.get(ns);
        if (!svc) unexpected.push(...resources);
        else {
          try {
            unexpected.push(...svc.unexpectedResources(resources));
          } catch (error) {
            // What a service cannot judge is left alone.
            this.fail(svc, error, failures);
          }
        }
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
    type Entry = { status: TaskStatus; prepared?: PreparedStatus; answer: "processed" | "unknown" };
    const entries: Entry[] = statuses.map((status) => {
      const parsed = tryParseTaskId(status.taskId);
      if (parsed === undefined) return { status, answer: "unknown" };
      // A pre-0.50 ID (`name__uuid`) names no service: the default service's (§1.3 taskStatus).
      const name = parsed.service ?? this.defaultKey();
      if (name === undefined) return { status, answer: "unknown" };
      const svc = this.manager.getBySanitized(name);
      if (!svc) return { status, answer: this.manager.isQuarantined(name) ? "processed" : "unknown" };
      const prepared = svc.prepareStatus(status);
      return prepared === "unknown" ? { status, answer: "unknown" } : { status, prepared, answer: "processed" };
    });
    const { stored, error } = await this.storeInChunks(entries.map((e) => e.prepared?.ops ?? []));
    // The service may have been replaced meanwhile (a repair): apply to the one prepared.
    const done = entries.slice(0, stored).map((e) => ({ status: e.status, answer: e.prepared ? e.prepared.apply() : e.answer }));
    return error === undefined ? { done } : { done, error };
  }
}

function opBytes(ops: readonly PersisterOp[]): number {
  return ops.reduce((n, op) => n + (op.kind === "set" || op.kind === "create" ? op.data.byteLength : 0), 0);
}
