/**
 * The durable plan event log behind WatchPlans: every change of a plan, phase or step of a
 * running service (status, message, task ids; a plan also on every new generation), with a
 * sequence number, kept and replayed like the uninstall events (event-log.ts: bounded retention,
 * resume with `after`, RESOURCE_EXHAUSTED for a watcher that falls behind).
 *
 * Changes are found by diffing, not reported by every place that changes a plan: after each
 * unit of engine work (`observe`, run by the work queue after every item: offer cycle, status
 * batch, put, plan or pod control, removal step) the services whose plans may have changed
 * (their `planRevision` moved) are compared with what the log last recorded of them
 * (plan-event-baseline.ts), and the differences of the whole unit are stored in one multi
 * (plan-event-writer.ts) with the services' new baselines.
 *
 * Across a restart: the baselines are stored with the events, so the first diff after recovery
 * compares the plans rebuilt from task records with what watchers were last told; it announces
 * what differs once (what happened while no scheduler wrote events, and what a restart shows
 * differently, e.g. a step message) and nothing else. A watcher that resumes with `after` sees
 * every change exactly once: the changes it saw are stored, the ones it did not are either
 * stored or not yet recorded in the baseline.
 *
 * Services being removed are left to WatchUninstall: their baseline is dropped when the removal
 * starts, so a service put again under the name starts afresh. A quarantined service keeps its.
 */
import { SchedulerError, abbreviateList } from "../domain/errors.js";
import type { PlanEventView } from "./admin-api.js";
import type { EventLogOptions, EventLogStats } from "./event-log.js";
import { EventLog } from "./event-log.js";
import type { ManagedService } from "./managed-service.js";
import { PlanBaseline } from "./plan-event-baseline.js";
import { PLAN_EVENT_FORMAT } from "./plan-event-codec.js";
import type { ServiceRecord } from "./plan-event-writer.js";
import { BASELINES, PlanEventWriter, baselinePath } from "./plan-event-writer.js";
import type { Clock, Logger, Persister, PersisterOp } from "./ports.js";
import { getMany } from "./store/read-many.js";

const WORDING = { events: "plan events", relist: "re-list with ListPlans and watch from 0" };

/** What the log reads of the scheduler's services. */
export interface PlanSource {
  /** The services in the manager (running, being reconfigured, being removed). */
  services(): readonly ManagedService[];
  /** Whether a name that is no service in the manager is quarantined (its baseline is kept). */
  isQuarantined(name: string): boolean;
}

export class PlanEvents {
  /** What the log last recorded of each service, in memory (ahead of the store while writes are under way). */
  readonly #baselines: Map<string, PlanBaseline>;
  /** What the store holds of each service's baseline (for a write that fails). */
  readonly #stored: Map<string, Uint8Array>;
  /** The `planRevision` each service was last diffed at. */
  readonly #revisions = new WeakMap<ManagedService, number>();
  /** Services to diff whatever their revision (their write failed). */
  readonly #again = new Set<string>();
  readonly #writer: PlanEventWriter;

  private constructor(
    readonly log: EventLog<PlanEventView>,
    stored: Map<string, Uint8Array>,
    private readonly source: PlanSource,
    persist: (ops: readonly PersisterOp[]) => Promise<void>,
    logger: Logger,
  ) {
    this.#stored = stored;
    this.#baselines = new Map([...stored].map(([name, data]) => [name, PlanBaseline.decode(data)?.baseline ?? PlanBaseline.empty()]));
    this.#writer = new PlanEventWriter({
      log,
      persist,
      logger,
      stored: (records) => {
        for (const r of records) {
          if (r.baseline === undefined) this.#stored.delete(r.name);
          else this.#stored.set(r.name, r.baseline);
        }
      },
      lost: (names) => {
        for (const name of names) {
          const data = this.#stored.get(name);
          const back = data === undefined ? undefined : PlanBaseline.decode(data)?.baseline;
          if (back === undefined) this.#baselines.delete(name);
          else this.#baselines.set(name, back);
          this.#again.add(name);
        }
      },
    });
  }

  /** Reads the retained events and every service's baseline (`PlanEvents/Seen/*`); writes go through `persist`. */
  static async load(
    persister: Persister,
    clock: Clock,
    source: PlanSource,
    persist: (ops: readonly PersisterOp[]) => Promise<void>,
    logger: Logger,
    options: EventLogOptions = {},
  ): Promise<PlanEvents> {
    const [log, children] = await Promise.all([EventLog.load(persister, clock, PLAN_EVENT_FORMAT, WORDING, options), persister.children(BASELINES)]);
    const paths = children.map((c) => `${BASELINES}/${c}`);
    const values = await getMany(persister, paths);
    const stored = new Map<string, Uint8Array>();
    values.forEach((v, i) => {
      const name = v === undefined ? undefined : PlanBaseline.decode(v.data)?.name;
      // A node under another name than its service's would never be rewritten: left to be ignored.
      if (name !== undefined && baselinePath(name) === paths[i]) stored.set(name, v!.data);
    });
    return new PlanEvents(log, stored, source, persist, logger);
  }

  /** After a unit of engine work: records what changed in the plans of the services it touched. */
  observe(): void {
    const records: ServiceRecord[] = [];
    const active = new Set<string>();
    for (const svc of this.source.services()) {
      if (svc.removing) continue;
      active.add(svc.name);
      const revision = svc.planRevision;
      if (revision !== undefined && this.#revisions.get(svc) === revision && !this.#again.has(svc.name)) continue;
      if (revision !== undefined) this.#revisions.set(svc, revision);
      this.#again.delete(svc.name);
      let baseline = this.#baselines.get(svc.name);
      if (baseline === undefined) this.#baselines.set(svc.name, (baseline = PlanBaseline.empty()));
      const { changes, vanished } = baseline.diff(svc.name, svc.context?.generation ?? 0, svc.allPlans());
      if (changes.length > 0 || vanished) records.push({ name: svc.name, changes, baseline: baseline.encode(svc.name) });
    }
    if (this.#baselines.size > active.size) {
      for (const name of this.#baselines.keys()) {
        if (active.has(name) || this.source.isQuarantined(name)) continue;
        this.#baselines.delete(name);
        records.push({ name, changes: [], baseline: undefined });
      }
    }
    if (records.length > 0) this.#writer.write(records);
  }

  /**
   * Events with sequence > `after` of the named services (all when `names` is empty), then live
   * ones, until `signal` aborts. Fails (on the first `next`) with out_of_range when `after` is
   * beyond the last sequence number or below the retention, with not_found for a name that is
   * no service (`isKnown`) and has no retained event; later as event-log.ts `watch` says.
   */
  watch(names: readonly string[], after: bigint, signal: AbortSignal, isKnown: (name: string) => boolean): AsyncIterableIterator<PlanEventView> {
    return this.log.watch(after, signal, () => {
      if (names.length === 0) return { filter: { names: undefined }, start: after };
      const unknown = [...new Set(names)].filter((n) => !isKnown(n) && this.log.events.lastOf(n) === undefined);
      if (unknown.length > 0) throw new SchedulerError("not_found", `no service and no plan events for: ${abbreviateList(unknown)}`);
      return { filter: { names: new Set(names) }, start: after };
    });
  }

  /** Resolves once every recorded change is stored (or given up). */
  idle(): Promise<void> {
    return this.#writer.idle();
  }

  lastSequence(): bigint {
    return this.log.lastSequence();
  }

  stats(): EventLogStats {
    return this.log.stats();
  }
}
