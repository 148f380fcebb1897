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
 * Stored layout (store/layout.ts): `UninstallEvents/<sequence, 20 digits>` → the event as JSON
 * (sequence as a decimal string). The `UninstallEvents` node's own value is the last sequence
 * number (a JSON string), set by every write, so numbers never go backwards across restarts even
 * when retention deleted every event; `load` takes the larger of it and the highest stored event.
 * A multi may interleave with another one and leave a lower value there; the highest stored
 * event then still holds the higher number, because retention never deletes the newest event.
 *
 * Removals: every event carries the id of the removal it belongs to, the sequence number of its
 * STARTED event, so a name that is put and removed again has a new removal whose events are told
 * apart from the earlier one's. A watch of named services from the start (`after` = 0) follows
 * each name's current removal, or the latest one when none is in progress (see `watch`). Events
 * stored before removal ids get theirs when loaded (uninstall-event-codec.ts, `assignRemovalIds`).
 *
 * Memory: the retained events are held once, in sequence order. A watcher is a cursor over them
 * plus a count of the live events published for it and not yet taken; it holds no queue of its
 * own, so 1,000 idle watchers cost 1,000 small objects. `watcherBuffer` bounds that count: a
 * watcher that falls further behind fails with RESOURCE_EXHAUSTED (and is unsubscribed at once),
 * and resumes with `after` = the last sequence it received.
 *
 * Retention is applied to memory when an event is prepared, when a watch starts and at load;
 * the store follows lazily: what memory dropped is deleted by the next prepared writes (at most
 * MAX_PURGE_OPS deletes each). Expired events that were not yet dropped may still be replayed.
 */
import { SchedulerError, abbreviateList } from "../domain/errors.js";
import type { UninstallEventView } from "./admin-api.js";
import type { Clock, Persister, PersisterOp } from "./ports.js";
import { encodeJson } from "./store/codec.js";
import { READ_CONCURRENCY, mapLimit } from "./store/concurrency.js";
import { UNINSTALL_EVENTS, UNINSTALL_EVENT_DIGITS, uninstallEventPath } from "./store/layout.js";
import { watchIterator } from "./uninstall-event-iterator.js";
import { assignRemovalIds, decodeEvent, decodeMarker, encodeEvent, isTerminal } from "./uninstall-event-codec.js";
import type { DecodedEvent, LoggedEvent } from "./uninstall-event-codec.js";

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

const EVENT_NAME = new RegExp(`^[0-9]{${UNINSTALL_EVENT_DIGITS}}$`);

/** One open watch: a cursor over the log. */
interface Watcher {
  /** Absolute index of the next event to look at. */
  next: number;
  /** Absolute index of the first live event (appended after the watch started). */
  readonly liveFrom: number;
  /** Live events for this watcher appended and not yet taken. */
  queued: number;
  /** undefined = every service. */
  readonly names: ReadonlySet<string> | undefined;
  /**
   * Per named service, the first removal id it follows: its events of earlier removals are
   * skipped. undefined = every removal (a resume with `after`, or no name with an earlier one).
   */
  readonly from: ReadonlyMap<string, bigint> | undefined;
  /** Named services whose last delivered event is not COMPLETED/FORCED; the watch ends when empty. */
  readonly open: Set<string> | undefined;
  /** Sequence number of the last event taken (initially `after`). */
  delivered: bigint;
  failure: SchedulerError | undefined;
  wake: (() => void) | undefined;
  subscribed: boolean;
}

export class UninstallEventLog {
  readonly #clock: Clock;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;
  readonly #watcherBuffer: number;

  /** Retained events in sequence order are `#entries[#head..]`; `#dropped` counts entries spliced off the front. */
  #entries: LoggedEvent[] = [];
  #head = 0;
  #dropped = 0;
  /** The last event of each name among the retained ones. */
  readonly #lastByName = new Map<string, LoggedEvent>();

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

  readonly #all = new Set<Watcher>();
  readonly #wildcard = new Set<Watcher>();
  readonly #byName = new Map<string, Set<Watcher>>();
  #maxQueued = 0;
  #overflows = 0;

  private constructor(clock: Clock, options: UninstallEventLogOptions) {
    this.#clock = clock;
    this.#maxEvents = positiveInteger("maxEvents", options.maxEvents ?? DEFAULT_MAX_EVENTS);
    this.#maxAgeMs = positiveInteger("maxAgeMs", options.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
    this.#watcherBuffer = positiveInteger("watcherBuffer", options.watcherBuffer ?? DEFAULT_WATCHER_BUFFER);
  }

  /**
   * Reads `UninstallEvents/*`: only the newest `maxEvents` are read (64 reads in flight, see
   * store/concurrency.ts); older, expired and unreadable ones are dropped (and deleted by the
   * next writes). After a restart a resume point below the oldest retained event answers
   * OUT_OF_RANGE (the log cannot tell a pruned event from an abandoned sequence number then).
   */
  static async load(persister: Persister, clock: Clock, options: UninstallEventLogOptions = {}): Promise<UninstallEventLog> {
    const log = new UninstallEventLog(clock, options);
    const [children, marker] = await Promise.all([persister.children(UNINSTALL_EVENTS), persister.get(UNINSTALL_EVENTS)]);
    const sequences = children.filter((c) => EVENT_NAME.test(c)).map((c) => BigInt(c));
    sequences.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const keep = sequences.slice(Math.max(0, sequences.length - log.#maxEvents));
    for (const s of sequences.slice(0, sequences.length - keep.length)) log.#unpurged.add(s);
    const values = await mapLimit(keep, READ_CONCURRENCY, (s) => persister.get(uninstallEventPath(s)));
    const decoded: DecodedEvent[] = [];
    keep.forEach((sequence, i) => {
      const data = values[i]?.data;
      const event = data === undefined ? undefined : decodeEvent(data, sequence);
      if (event === undefined) log.#unpurged.add(sequence);
      else decoded.push(event);
    });
    // Expired events still tell later ones which removal they belong to.
    const oldest = clock.now() - log.#maxAgeMs;
    for (const event of assignRemovalIds(decoded)) {
      if (event.timeMs < oldest) log.#unpurged.add(event.sequence);
      else log.#appendLoaded(event);
    }
    const last = sequences.at(-1) ?? 0n;
    const stored = marker === undefined ? 0n : decodeMarker(marker.data);
    log.#published = last > stored ? last : stored;
    log.#allocated = log.#published;
    const first = log.#first();
    log.#prunedThrough = first === undefined ? log.#published : first.sequence - 1n;
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
    // `set`, not `create`: if a multi reported as failed was applied after all (a ZooKeeper
    // connection loss), the sequence number is reused and the next write overwrites it.
    const ops: PersisterOp[] = [
      { kind: "set", path: UNINSTALL_EVENTS, data: encodeJson(sequence.toString()) },
      { kind: "set", path: uninstallEventPath(sequence), data: encodeEvent(event) },
      ...purge.map((s): PersisterOp => ({ kind: "delete", path: uninstallEventPath(s) })),
    ];
    return { event, ops };
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
    let w: Watcher | undefined;
    return watchIterator(signal, {
      subscribe: () => {
        w = this.#subscribe(names, after, isKnown);
      },
      unsubscribe: () => {
        if (w !== undefined) this.#unsubscribe(w);
      },
      ended: () => w?.open?.size === 0,
      take: () => (w === undefined ? undefined : this.#take(w)),
      sleep: () =>
        new Promise<void>((resolve) => {
          const watcher = w!;
          watcher.wake = () => {
            watcher.wake = undefined;
            resolve();
          };
        }),
      wake: () => w?.wake?.(),
    });
  }

  /** Wipe (whole-scheduler uninstall): the ops that delete every stored event and the sequence number. */
  wipeOps(): PersisterOp[] {
    return [{ kind: "delete", path: UNINSTALL_EVENTS }];
  }

  /**
   * The removal of `name` in progress as far as the retained events tell (its last event is not
   * COMPLETED or FORCED): its id, or 0 when none (or its events are no longer retained).
   */
  currentRemoval(name: string): bigint {
    const last = this.#lastByName.get(name);
    return last === undefined || isTerminal(last) ? 0n : last.removalId;
  }

  /** The highest sequence number watchers can have seen (0 when none). */
  lastSequence(): bigint {
    return this.#published;
  }

  /** Open watchers. */
  watcherCount(): number {
    return this.#all.size;
  }

  stats(): UninstallEventLogStats {
    return {
      watchers: this.#all.size,
      retained: this.#entries.length - this.#head,
      maxQueued: this.#maxQueued,
      overflows: this.#overflows,
      inFlight: this.#pending.size + this.#ready.size,
    };
  }

  // --- the in-memory log ----------------------------------------------------------------------

  #first(): LoggedEvent | undefined {
    return this.#entries[this.#head];
  }

  #firstIndex(): number {
    return this.#dropped + this.#head;
  }

  #endIndex(): number {
    return this.#dropped + this.#entries.length;
  }

  #at(index: number): LoggedEvent {
    return this.#entries[index - this.#dropped]!;
  }

  /** Absolute index of the first retained event with sequence > `after`. */
  #indexAfter(after: bigint): number {
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.sequence <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.#dropped + lo;
  }

  #appendLoaded(event: LoggedEvent): void {
    this.#entries.push(event);
    this.#lastByName.set(event.name, event);
  }

  #append(event: LoggedEvent): void {
    this.#appendLoaded(event);
    this.#published = event.sequence;
    const deliver = (w: Watcher): void => {
      w.queued++;
      if (w.queued > this.#watcherBuffer) {
        this.#overflows++;
        this.#fail(
          w,
          new SchedulerError(
            "resource_exhausted",
            `watcher fell behind: more than ${this.#watcherBuffer} events waiting; ` +
              `resume with after=<the last sequence received> (this watch delivered up to ${w.delivered})`,
          ),
        );
        return;
      }
      if (w.queued > this.#maxQueued) this.#maxQueued = w.queued;
      w.wake?.();
    };
    for (const w of this.#wildcard) deliver(w);
    const named = this.#byName.get(event.name);
    if (named !== undefined) for (const w of named) if (this.#matches(w, event)) deliver(w);
  }

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
      this.#append(event);
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
    const before = this.#firstIndex();
    for (let e = this.#first(); e !== undefined; e = this.#first()) {
      const count = this.#entries.length - this.#head;
      if (count + room <= this.#maxEvents && e.timeMs >= oldest) break;
      this.#head++;
      this.#unpurged.add(e.sequence);
      this.#prunedThrough = e.sequence;
      if (this.#lastByName.get(e.name) === e) this.#lastByName.delete(e.name);
    }
    if (this.#firstIndex() === before) return;
    // A watcher whose cursor was dropped: fine if none of the dropped events was for it.
    for (const w of this.#all) {
      if (w.next >= this.#firstIndex()) continue;
      let missed = false;
      for (let i = w.next; i < this.#firstIndex() && !missed; i++) missed = this.#matches(w, this.#at(i));
      if (missed) {
        this.#fail(
          w,
          new SchedulerError(
            "out_of_range",
            `watcher fell behind the retention of uninstall events (delivered up to ${w.delivered}); ` +
              "re-list with ListServices and watch from 0",
          ),
        );
      } else {
        w.next = this.#firstIndex();
      }
    }
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#dropped += this.#head;
      this.#head = 0;
    }
  }

  // --- watchers -------------------------------------------------------------------------------

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
    const wanted = names.length === 0 ? undefined : new Set(names);
    let open: Set<string> | undefined;
    let from: Map<string, bigint> | undefined;
    let start = after;
    if (wanted !== undefined) {
      const unknown = [...wanted].filter((n) => !isKnown(n) && !this.#lastByName.has(n));
      if (unknown.length > 0) {
        throw new SchedulerError("not_found", `no service and no uninstall events for: ${abbreviateList(unknown)}`);
      }
      open = new Set();
      for (const n of wanted) {
        const last = this.#lastByName.get(n);
        const done = last !== undefined && isTerminal(last) && last.sequence <= after && !isKnown(n);
        if (!done) open.add(n);
      }
      if (after === 0n) {
        const followed = this.#followed(wanted, isKnown);
        if (followed.size > 0) from = followed;
        // Removal ids are sequence numbers: nothing before the lowest one followed is wanted.
        if (followed.size === wanted.size) start = [...followed.values()].reduce((a, b) => (b < a ? b : a)) - 1n;
      }
    }
    const w: Watcher = {
      next: this.#indexAfter(start),
      liveFrom: this.#endIndex(),
      queued: 0,
      names: wanted,
      from,
      open,
      delivered: after,
      failure: undefined,
      wake: undefined,
      subscribed: true,
    };
    this.#all.add(w);
    if (wanted === undefined) this.#wildcard.add(w);
    else {
      for (const n of wanted) {
        let set = this.#byName.get(n);
        if (set === undefined) this.#byName.set(n, (set = new Set()));
        set.add(w);
      }
    }
    return w;
  }

  /** For a watch from the start: the removal each name follows, where it is not "every removal". */
  #followed(names: ReadonlySet<string>, isKnown: (name: string) => boolean): Map<string, bigint> {
    const from = new Map<string, bigint>();
    for (const n of names) {
      const last = this.#lastByName.get(n);
      if (last === undefined) continue; // no retained event: whatever comes
      if (!isTerminal(last)) from.set(n, last.removalId); // in progress
      else if (isKnown(n)) from.set(n, last.sequence + 1n); // put again: its next removal
      else from.set(n, last.removalId); // gone: its latest removal
    }
    for (const [n, id] of from) if (id === 0n) from.delete(n); // unknown removal: every one
    return from;
  }

  #unsubscribe(w: Watcher): void {
    if (!w.subscribed) return;
    w.subscribed = false;
    this.#all.delete(w);
    if (w.names === undefined) this.#wildcard.delete(w);
    else {
      for (const n of w.names) {
        const set = this.#byName.get(n);
        set?.delete(w);
        if (set?.size === 0) this.#byName.delete(n);
      }
    }
  }

  #fail(w: Watcher, error: SchedulerError): void {
    w.failure = error;
    this.#unsubscribe(w);
    w.wake?.();
  }

  #matches(w: Watcher, event: LoggedEvent): boolean {
    if (w.names === undefined) return true;
    if (!w.names.has(event.name)) return false;
    const from = w.from?.get(event.name);
    return from === undefined || event.removalId >= from;
  }

  /** The watcher's next event, or undefined when it has taken everything so far. */
  #take(w: Watcher): LoggedEvent | undefined {
    if (w.failure !== undefined) throw w.failure;
    const end = this.#endIndex();
    while (w.next < end) {
      const index = w.next++;
      const event = this.#at(index);
      if (!this.#matches(w, event)) continue;
      if (index >= w.liveFrom) w.queued--;
      w.delivered = event.sequence;
      if (w.open !== undefined) {
        if (isTerminal(event)) w.open.delete(event.name);
        else w.open.add(event.name);
      }
      return event;
    }
    return undefined;
  }
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw SchedulerError.invalid([{ field, reason: `must be a positive integer, got ${value}` }]);
  }
  return value;
}
