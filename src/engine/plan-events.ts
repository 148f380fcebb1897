/**
 * The durable plan event log behind WatchPlans: every change of a plan, phase or step of a
 * running service (status, message, task ids; a plan also on every new generation), with a
 * sequence number, kept and replayed like the uninstall events (event-log.ts: bounded retention,
 * resume with `after`, RESOURCE_EXHAUSTED for a watcher that falls behind).
 *
 * Changes are found by diffing, not reported by every place that changes a plan: after each
 * unit of engine work (`observe`, run by the work queue after every item: offer cycle, status
 * batch, put, plan or pod control, removal step) the services whose plans may have changed
 * (they called `planChanged`, or the manager added, replaced or removed them) are compared with
 * what the log last recorded of them (plan-event-baseline.ts), and the differences of the whole
 * unit are stored in one multi (plan-event-writer.ts) with the services' new baselines. A unit
 * of work costs the services it touched, not all of them.
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

/** What the log reads of the scheduler's services (the MultiServiceManager). */
export interface PlanSource {
  /** The service of that name (running, being reconfigured, being removed). */
  get(name: string): ManagedService | undefined;
  /** Whether a name that is no service in the manager is quarantined (its baseline is kept until it is repaired or removed). */
  isQuarantined(name: string): boolean;
  /** Told the name of every service added, replaced or removed. */
  onChange: ((name: string) => void) | undefined;
}

export class PlanEvents {
  /** What the log last recorded of each service, in memory (ahead of the store while writes are under way). */
  readonly #baselines: Map<string, PlanBaseline>;
  /** What the store holds of each service's baseline (for a write that fails). */
  readonly #stored: Map<string, Uint8Array>;
  /** Services to diff after this unit of work. */
  readonly #touched = new Set<string>();
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
          this.#touched.add(name);
        }
      },
    });
    // Stored baselines of services that did not come back are deleted by the first look.
    for (const name of stored.keys()) this.#touched.add(name);
    source.onChange = (name) => this.#touched.add(name);
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
    if (this.#touched.size === 0) return;
    const records: ServiceRecord[] = [];
    for (const name of this.#touched) {
      const svc = this.source.get(name);
      if (svc === undefined || svc.removing) {
        if (svc === undefined && this.source.isQuarantined(name)) continue;
        if (this.#baselines.delete(name) || this.#stored.has(name)) records.push({ name, changes: [], baseline: undefined });
        continue;
      }
      svc.planChanged ??= () => this.#touched.add(name);
      let baseline = this.#baselines.get(name);
      if (baseline === undefined) this.#baselines.set(name, (baseline = PlanBaseline.empty()));
      const { changes, vanished } = baseline.diff(name, svc.context?.generation ?? 0, svc.allPlans());
      if (changes.length > 0 || vanished) records.push({ name, changes, baseline: baseline.encode(name) });
    }
    this.#touched.clear();
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
