/**
 * The durable uninstall event log behind WatchUninstall: STARTED, PROGRESS, COMPLETED and FORCED
 * events with a monotonically increasing sequence number, kept in the store with bounded
 * retention (the last `maxEvents` events, none older than `maxAgeMs`), replayed to watchers that
 * resume with `after`, then followed live.
 *
 * Writing is the caller's: `prepare` allocates the next sequence number and returns the ops that
 * store the event (and delete what fell out of retention); the caller puts them in its own multi
 * (e.g. with the deletion of the service's subtree, so COMPLETED and the deletion are one atomic
 * write), then calls `publish` (the multi succeeded) or `abandon` (it failed). Every `prepare`
 * must be settled by one of the two: watchers receive events strictly in sequence order, so a
 * published event waits for every lower sequence number still being written.
 *
 * The stored form: uninstall-event-store.ts. Roles: this file sequences and retains events;
 * uninstall-event-window.ts holds them; uninstall-watchers.ts fans them out to the watchers.
 *
 * Removals: every event carries the id of the removal it belongs to, the sequence number of its
 * STARTED event, so a name that is put and removed again has a new removal whose events are told
 * apart from the earlier one's. A watch of named services from the start (`after` = 0) follows
 * each name's current removal, or the latest one when none is in progress (see `watch`). Events
 * stored before removal ids get theirs when loaded (uninstall-event-codec.ts, `assignRemovalIds`).
 *
 * Memory: the retained events are held once, in sequence order (uninstall-event-window.ts); a
 * watcher is a cursor over them (uninstall-watchers.ts). `watcherBuffer` bounds the live events
 * waiting for one watcher: a watcher that falls further behind fails with RESOURCE_EXHAUSTED (and
 * is unsubscribed at once), and resumes with `after` = the last sequence it received.
 *
 * Retention is applied to memory when an event is prepared, when a watch starts and at load;
 * the store follows lazily: what memory dropped is deleted by the next prepared writes (at most
 * MAX_PURGE_OPS deletes each). Expired events that were not yet dropped may still be replayed.
 */
import { SchedulerError } from "../domain/errors.js";
import type { UninstallEventView } from "./admin-api.js";
import type { Clock, Persister, PersisterOp } from "./ports.js";
import { watchIterator } from "./uninstall-event-iterator.js";
import type { LoggedEvent } from "./uninstall-event-codec.js";
import { eventWriteOps, readStoredLog, wipeLogOps } from "./uninstall-event-store.js";
import { RetainedEvents } from "./uninstall-event-window.js";
import { UninstallWatchers } from "./uninstall-watchers.js";
import type { Watcher } from "./uninstall-watchers.js";

export interface UninstallEventLogOptions {
  /** Events kept, newest first. @default 10_000 */
  readonly maxEvents?: number;
  /** Age after which an event is dropped. @default 7 days */
  readonly maxAgeMs?: number;
  /** Live events that may wait for one watcher before it fails with RESOURCE_EXHAUSTED. @default 1024 */
  readonly watcherBuffer?: number;
}

export const DEFAULT_MAX_EVENTS = 10_000;
export const DEFAULT_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
export const DEFAULT_WATCHER_BUFFER = 1024;
/** Deletes of dropped events one prepared write carries at most (a ZooKeeper multi must stay small). */
export const MAX_PURGE_OPS = 256;

/**
 * What the writer of an event says; the log adds the sequence number and the time. `removalId`
 * is the removal's (its STARTED event's sequence number): a STARTED event gets its own, and an
 * event without one belongs to the name's removal in progress (0 when the log knows none).
 */
export type UninstallEventFields = Omit<UninstallEventView, "sequence" | "timeMs" | "removalId"> & { readonly removalId?: bigint };

/** Figures for tests and benchmarks. */
export interface UninstallEventLogStats {
  /** Open watchers. */
  readonly watchers: number;
  /** Events in memory (replayable). */
  readonly retained: number;
  /** The most live events that ever waited for one watcher (≤ watcherBuffer). */
  readonly maxQueued: number;
  /** Watchers failed with RESOURCE_EXHAUSTED so far. */
  readonly overflows: number;
  /** Prepared events neither published nor abandoned, plus published ones waiting for them. */
  readonly inFlight: number;
}

export class UninstallEventLog {
  readonly #clock: Clock;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;

  readonly #events = new RetainedEvents();
  readonly #watchers: UninstallWatchers;

  /** Highest sequence number allocated and not abandoned. */
  #allocated = 0n;
  /** Highest sequence number delivered to watchers (or found in the store at load). */
  #published = 0n;
  /** Highest sequence number dropped by retention; a resume point below it missed events. */
  #prunedThrough = 0n;
  /** Prepared, not yet settled: sequence → the purge deletes its ops carry. */
  readonly #pending = new Map<bigint, readonly bigint[]>();
  /** Published, waiting for a lower pending sequence number to settle. */
  readonly #ready = new Map<bigint, LoggedEvent>();
  /** Dropped from memory, maybe still stored: deleted by the next prepared writes. */
  readonly #unpurged = new Set<bigint>();

  private constructor(clock: Clock, options: UninstallEventLogOptions) {
    this.#clock = clock;
    this.#maxEvents = positiveInteger("maxEvents", options.maxEvents ?? DEFAULT_MAX_EVENTS);
    this.#maxAgeMs = positiveInteger("maxAgeMs", options.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
    this.#watchers = new UninstallWatchers(this.#events, positiveInteger("watcherBuffer", options.watcherBuffer ?? DEFAULT_WATCHER_BUFFER));
  }

  /**
   * Reads `UninstallEvents/*`: only the newest `maxEvents` are read (64 reads in flight, see
   * store/concurrency.ts); older, expired and unreadable ones are dropped (and deleted by the
   * next writes). After a restart a resume point below the oldest retained event answers
   * OUT_OF_RANGE (the log cannot tell a pruned event from an abandoned sequence number then).
   */
  static async load(persister: Persister, clock: Clock, options: UninstallEventLogOptions = {}): Promise<UninstallEventLog> {
    const log = new UninstallEventLog(clock, options);
    const stored = await readStoredLog(persister, log.#maxEvents, clock.now() - log.#maxAgeMs);
    for (const event of stored.retained) log.#events.append(event);
    for (const s of stored.unpurged) log.#unpurged.add(s);
    log.#published = stored.last;
    log.#allocated = stored.last;
    const first = log.#events.first();
    log.#prunedThrough = first === undefined ? stored.last : first.sequence - 1n;
    return log;
  }

  /**
   * Allocates the next sequence number and returns the event plus the ops that store it, record
   * the last sequence number, and delete events that fell out of retention. The caller puts the
   * ops in its own multi, then calls `publish` or `abandon`.
   */
  prepare(fields: UninstallEventFields): { event: LoggedEvent; ops: PersisterOp[] } {
    const now = this.#clock.now();
    this.#expire(now, 1);
    const sequence = this.#allocated + 1n;
    this.#allocated = sequence;
    const event: LoggedEvent = Object.freeze({
      sequence,
      removalId: fields.kind === "STARTED" ? sequence : (fields.removalId ?? this.currentRemoval(fields.name)),
      name: fields.name,
      kind: fields.kind,
      timeMs: now,
      stepsComplete: fields.stepsComplete,
      stepsTotal: fields.stepsTotal,
      leftovers: Object.freeze([...fields.leftovers]),
      message: fields.message,
    });
    const purge: bigint[] = [];
    for (const s of this.#unpurged) {
      if (purge.length >= MAX_PURGE_OPS) break;
      purge.push(s);
    }
    this.#pending.set(sequence, purge);
    return { event, ops: eventWriteOps(event, purge) };
  }

  /** After the caller's multi succeeded: keep the event and deliver it (in sequence order) to watchers. */
  publish(event: LoggedEvent): void {
    const purged = this.#settle(event, "publish");
    for (const s of purged) this.#unpurged.delete(s);
    this.#ready.set(event.sequence, event);
    this.#flush();
  }

  /** After the caller's multi failed: the sequence number is reused when no later one is in use. */
  abandon(event: LoggedEvent): void {
    this.#settle(event, "abandon");
    let highest = this.#published;
    for (const s of this.#pending.keys()) if (s > highest) highest = s;
    for (const s of this.#ready.keys()) if (s > highest) highest = s;
    this.#allocated = highest;
    this.#flush();
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
   * service (`isKnown`) and has no retained event. Fails later with resource_exhausted when more
   * than `watcherBuffer` live events wait for it, or out_of_range when retention dropped an event
   * it had not taken yet. Subscribes on the first `next`; `return` (leaving a for-await loop)
   * or the abort unsubscribes at once (uninstall-event-iterator.ts).
   */
  watch(
    names: readonly string[],
    after: bigint,
    signal: AbortSignal,
    isKnown: (name: string) => boolean,
  ): AsyncIterableIterator<LoggedEvent> {
    return watchIterator(signal, this.#watchers.cursor(() => this.#subscribe(names, after, isKnown)));
  }

  /** Wipe (whole-scheduler uninstall): deletes every stored event and the sequence number. */
  wipeOps(): PersisterOp[] {
    return wipeLogOps();
  }

  /**
   * The removal of `name` in progress as far as the retained events tell (its last event is not
   * COMPLETED or FORCED): its id, or 0 when none (or its events are no longer retained).
   */
  currentRemoval(name: string): bigint {
    return this.#events.currentRemoval(name);
  }

  /** The highest sequence number watchers can have seen (0 when none). */
  lastSequence(): bigint {
    return this.#published;
  }

  watcherCount(): number {
    return this.#watchers.size;
  }

  stats(): UninstallEventLogStats {
    return {
      watchers: this.#watchers.size,
      retained: this.#events.size,
      maxQueued: this.#watchers.maxQueued,
      overflows: this.#watchers.overflows,
      inFlight: this.#pending.size + this.#ready.size,
    };
  }

  // --- sequencing and retention ------------------------------------------------------------

  /** Moves published events that no lower pending sequence number holds back into the log. */
  #flush(): void {
    if (this.#ready.size === 0) return;
    let floor: bigint | undefined;
    for (const s of this.#pending.keys()) if (floor === undefined || s < floor) floor = s;
    const due = [...this.#ready.keys()].filter((s) => floor === undefined || s < floor);
    due.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const s of due) {
      const event = this.#ready.get(s)!;
      this.#ready.delete(s);
      this.#events.append(event);
      this.#published = event.sequence;
      this.#watchers.deliver(event);
    }
  }

  #settle(event: LoggedEvent, what: string): readonly bigint[] {
    const purged = this.#pending.get(event.sequence);
    if (purged === undefined) {
      throw new SchedulerError("internal", `${what} of uninstall event ${event.sequence}, which is not prepared or already settled`);
    }
    this.#pending.delete(event.sequence);
    return purged;
  }

  /** Drops events from memory beyond retention, leaving room for `room` more. */
  #expire(now: number, room: number): void {
    const oldest = now - this.#maxAgeMs;
    let dropped = false;
    for (let e = this.#events.first(); e !== undefined; e = this.#events.first()) {
      if (this.#events.size + room <= this.#maxEvents && e.timeMs >= oldest) break;
      this.#events.dropFirst();
      this.#unpurged.add(e.sequence);
      this.#prunedThrough = e.sequence;
      dropped = true;
    }
    if (!dropped) return;
    this.#watchers.dropped();
    this.#events.compact();
  }

  /** Checks the resume point, then adds the watcher. */
  #subscribe(names: readonly string[], after: bigint, isKnown: (name: string) => boolean): Watcher {
    this.#expire(this.#clock.now(), 0);
    if (after > this.#published) {
      throw new SchedulerError(
        "out_of_range",
        `after=${after} is beyond the last uninstall event (${this.#published}); re-list with ListServices and watch from 0`,
      );
    }
    if (after !== 0n && after < this.#prunedThrough) {
      throw new SchedulerError(
        "out_of_range",
        `after=${after} is older than the retained uninstall events (events up to ${this.#prunedThrough} were dropped); ` +
          "re-list with ListServices and watch from 0",
      );
    }
    return this.#watchers.add(names, after, isKnown);
  }
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw SchedulerError.invalid([{ field, reason: `must be a positive integer, got ${value}` }]);
  }
  return value;
}
