/**
 * The durable uninstall event log behind WatchUninstall: STARTED, PROGRESS, COMPLETED and FORCED
 * events with a monotonically increasing sequence number, kept in the store with bounded
 * retention (the last `maxEvents` events, none older than `maxAgeMs`), replayed to watchers that
 * resume with `after`, then followed live.
 *
 * Writing is the caller's: `prepare` allocates the next sequence number and returns the ops that
 * store the event (and delete what fell out of retention); the caller puts them in its own multi
 * (e.g. with the deletion of the service's subtree, so COMPLETED and the deletion are one atomic
 * write), then calls `publish` (the multi succeeded) or `abandon` (it failed). Sequencing,
 * retention, storage and the watchers' fan-out are the generic event log's (event-log.ts); this
 * file adds what is particular to removals: removal ids and when a watch of names ends.
 *
 * Removals: every event carries the id of the removal it belongs to, the sequence number of its
 * STARTED event, so a name that is put and removed again has a new removal whose events are told
 * apart from the earlier one's. A watch of named services from the start (`after` = 0) follows
 * each name's current removal, or the latest one when none is in progress (see `watch`). Events
 * stored before removal ids get theirs when loaded (uninstall-event-codec.ts, `assignRemovalIds`).
 *
 * Memory, retention and slow watchers: as event-log.ts says (RESOURCE_EXHAUSTED past
 * `watcherBuffer` waiting events; resume with `after` = the last sequence received).
 */
import type { UninstallEventView } from "./admin-api.js";
import type { EventLogOptions, EventLogStats } from "./event-log.js";
import { EventLog } from "./event-log.js";
import type { EventFormat } from "./event-log-store.js";
import { uninstallFilter } from "./uninstall-watch-filter.js";
import type { DecodedEvent, LoggedEvent } from "./uninstall-event-codec.js";
import { assignRemovalIds, decodeEvent, encodeEvent, isTerminal } from "./uninstall-event-codec.js";
import type { Clock, Persister, PersisterOp } from "./ports.js";
import { UNINSTALL_EVENTS } from "./store/layout.js";

export type UninstallEventLogOptions = EventLogOptions;
export type UninstallEventLogStats = EventLogStats;
export { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_EVENTS, DEFAULT_WATCHER_BUFFER, MAX_PURGE_OPS } from "./event-log.js";

/** One event per node, as the log was stored before it was shared with plan events. */
const FORMAT: EventFormat<LoggedEvent, DecodedEvent> = {
  root: UNINSTALL_EVENTS,
  encode: (events) => encodeEvent(events[0]!),
  decode: (data, sequence) => {
    const event = decodeEvent(data, sequence);
    return event === undefined ? undefined : [event];
  },
  complete: assignRemovalIds,
};

const WORDING = { events: "uninstall events", relist: "re-list with ListServices and watch from 0" };

/**
 * What the writer of an event says; the log adds the sequence number and the time. `removalId`
 * is the removal's (its STARTED event's sequence number): a STARTED event gets its own, and an
 * event without one belongs to the name's removal in progress (0 when the log knows none).
 */
export type UninstallEventFields = Omit<UninstallEventView, "sequence" | "timeMs" | "removalId"> & { readonly removalId?: bigint };

export class UninstallEventLog {
  private constructor(readonly log: EventLog<LoggedEvent>) {}

  /**
   * Reads `UninstallEvents/*` (event-log.ts `load`): the newest `maxEvents`, removal ids given to
   * events stored before they had one (uninstall-event-codec.ts, `assignRemovalIds`).
   */
  static async load(persister: Persister, clock: Clock, options: UninstallEventLogOptions = {}): Promise<UninstallEventLog> {
    return new UninstallEventLog(await EventLog.load(persister, clock, FORMAT, WORDING, options));
  }

  /**
   * Allocates the next sequence number and returns the event plus the ops that store it, record
   * the last sequence number, and delete events that fell out of retention. The caller puts the
   * ops in its own multi, then calls `publish` or `abandon`.
   */
  prepare(fields: UninstallEventFields): { event: LoggedEvent; ops: PersisterOp[] } {
    const { events, ops } = this.log.prepare(1, (sequence, timeMs) => [
      Object.freeze({
        sequence,
        removalId: fields.kind === "STARTED" ? sequence : (fields.removalId ?? this.currentRemoval(fields.name)),
        name: fields.name,
        kind: fields.kind,
        timeMs,
        stepsComplete: fields.stepsComplete,
        stepsTotal: fields.stepsTotal,
        leftovers: Object.freeze([...fields.leftovers]),
        message: fields.message,
      }),
    ]);
    return { event: events[0]!, ops };
  }

  /** After the caller's multi succeeded: keep the event and deliver it (in sequence order) to watchers. */
  publish(event: LoggedEvent): void {
    this.log.publish([event]);
  }

  /** After the caller's multi failed: the sequence number is reused when no later one is in use. */
  abandon(event: LoggedEvent): void {
    this.log.abandon([event]);
  }

  /**
   * Retained events with sequence > `after` of the named services (all when `names` is empty),
   * then live ones, in sequence order. With names, ends once every named service's last
   * delivered event is COMPLETED or FORCED (a named service whose removal completed at or before
   * `after` and which is no service any more counts as done at once). Ends when `signal` aborts.
   *
   * With names and `after` = 0, each name's events start at the removal it follows, so an
   * earlier removal's COMPLETED never ends the watch: the removal in progress (from its first
   * retained event); when none is, and the name is no service (`isKnown`), its latest removal
   * (replayed; the watch ends with it); when none is and the name is a service again (put after
   * its last removal), its next removal (live).
   *
   * Fails (on the first `next`) with out_of_range when `after` is beyond the last sequence
   * number, or below the retention (`after` = 0 never is); with not_found for a name that is no
   * service (`isKnown`) and has no retained event. Fails later as event-log.ts `watch` says.
   */
  watch(
    names: readonly string[],
    after: bigint,
    signal: AbortSignal,
    isKnown: (name: string) => boolean,
  ): AsyncIterableIterator<LoggedEvent> {
    return this.log.watch(after, signal, () => uninstallFilter(this.log.events, names, after, isKnown));
  }

  /** Wipe (whole-scheduler uninstall): deletes every stored event and the sequence number. */
  wipeOps(): PersisterOp[] {
    return this.log.wipeOps();
  }

  /**
   * The removal of `name` in progress as far as the retained events tell (its last event is not
   * COMPLETED or FORCED): its id, or 0 when none (or its events are no longer retained).
   */
  currentRemoval(name: string): bigint {
    const last = this.log.events.lastOf(name);
    return last === undefined || isTerminal(last) ? 0n : last.removalId;
  }

  /** The highest sequence number watchers can have seen (0 when none). */
  lastSequence(): bigint {
    return this.log.lastSequence();
  }

  watcherCount(): number {
    return this.log.stats().watchers;
  }

  stats(): UninstallEventLogStats {
    return this.log.stats();
  }
}
