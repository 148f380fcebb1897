/**
 * A durable event log behind a watch RPC (WatchUninstall: uninstall-events.ts, WatchPlans:
 * plan-events.ts): events with a monotonically increasing sequence number, kept in the store
 * with bounded retention (the last `maxEvents` events, none older than `maxAgeMs`), replayed to
 * watchers that resume with `after`, then followed live.
 *
 * Writing is the caller's: `prepare` allocates the next sequence numbers for a batch of events
 * and returns the ops that store them (and delete what fell out of retention); the caller puts
 * them in its own multi, then calls `publish` (the multi succeeded) or `abandon` (it failed).
 * Every `prepare` must be settled by one of the two: watchers receive events strictly in
 * sequence order, so a published batch waits for every lower sequence number still being written.
 *
 * Roles: this file sequences and retains events; event-window.ts holds them; event-watchers.ts
 * fans them out to the watchers; event-log-store.ts is the stored form.
 *
 * Memory: the retained events are held once, in sequence order; a watcher is a cursor over them.
 * `watcherBuffer` bounds the live events waiting for one watcher: a watcher that falls further
 * behind fails with RESOURCE_EXHAUSTED (and is unsubscribed at once), and resumes with `after` =
 * the last sequence it received.
 *
 * Retention is applied to memory when events are prepared, when a watch starts and at load;
 * the store follows lazily: a stored batch whose events memory all dropped is deleted by the next
 * prepared writes (at most MAX_PURGE_OPS deletes each, or as many as the batch has events).
 * Expired events that were not yet dropped may still be replayed.
 */
import { SchedulerError } from "../domain/errors.js";
import { watchIterator } from "./event-iterator.js";
import type { EventFormat, StoredNode } from "./event-log-store.js";
import { eventWriteOps, readStoredLog } from "./event-log-store.js";
import type { LogWording, WatchFilter } from "./event-watchers.js";
import { EventWatchers } from "./event-watchers.js";
import type { SequencedEvent } from "./event-window.js";
import { RetainedEvents } from "./event-window.js";
import type { Clock, Persister, PersisterOp } from "./ports.js";

export interface EventLogOptions {
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
/** Deletes of dropped events one prepared write carries at least (a ZooKeeper multi must stay small). */
export const MAX_PURGE_OPS = 256;

/** Figures for tests and benchmarks. */
export interface EventLogStats {
  /** Open watchers. */
  readonly watchers: number;
  /** Events in memory (replayable). */
  readonly retained: number;
  /** The most live events that ever waited for one watcher (≤ watcherBuffer). */
  readonly maxQueued: number;
  /** Watchers failed with RESOURCE_EXHAUSTED so far. */
  readonly overflows: number;
  /** Prepared batches neither published nor abandoned, plus published ones waiting for them. */
  readonly inFlight: number;
}

/** A prepared batch not yet settled: its last sequence number and the purge deletes its ops carry. */
interface Pending {
  readonly last: bigint;
  readonly purge: readonly bigint[];
}

export class EventLog<E extends SequencedEvent> {
  readonly #clock: Clock;
  readonly #format: EventFormat<E, unknown>;
  readonly #wording: LogWording;
  readonly #maxEvents: number;
  readonly #maxAgeMs: number;

  /** The retained events, oldest first (read-only for the log's owner). */
  readonly events = new RetainedEvents<E>();
  readonly #watchers: EventWatchers<E>;

  /** Highest sequence number allocated and not abandoned. */
  #allocated = 0n;
  /** Highest sequence number delivered to watchers (or found in the store at load). */
  #published = 0n;
  /** Highest sequence number dropped by retention; a resume point below it missed events. */
  #prunedThrough = 0n;
  /** Prepared, not yet settled, by first sequence number (each batch is one stored node). */
  readonly #pending = new Map<bigint, Pending>();
  /** Published, waiting for a lower pending sequence number to settle, by first sequence number. */
  readonly #ready = new Map<bigint, readonly E[]>();
  /** Stored nodes (batches) of the retained events, oldest first from `#nodeHead`. */
  #nodes: StoredNode[] = [];
  #nodeHead = 0;
  /** Nodes (by first sequence) whose events were all dropped from memory, maybe still stored: deleted by the next prepared writes. */
  readonly #unpurged = new Set<bigint>();

  private constructor(clock: Clock, format: EventFormat<E, unknown>, wording: LogWording, options: EventLogOptions) {
    this.#clock = clock;
    this.#format = format;
    this.#wording = wording;
    this.#maxEvents = positiveInteger("maxEvents", options.maxEvents ?? DEFAULT_MAX_EVENTS);
    this.#maxAgeMs = positiveInteger("maxAgeMs", options.maxAgeMs ?? DEFAULT_MAX_AGE_MS);
    const buffer = positiveInteger("watcherBuffer", options.watcherBuffer ?? DEFAULT_WATCHER_BUFFER);
    this.#watchers = new EventWatchers(this.events, buffer, wording);
  }

  /**
   * Reads the stored log: only the newest `maxEvents` are read; older, expired and unreadable
   * ones are dropped (and deleted by the next writes). After a restart a resume point below the
   * oldest retained event answers OUT_OF_RANGE (the log cannot tell a pruned event from an
   * abandoned sequence number then).
   */
  static async load<E extends SequencedEvent, D>(
    persister: Persister,
    clock: Clock,
    format: EventFormat<E, D>,
    wording: LogWording,
    options: EventLogOptions = {},
  ): Promise<EventLog<E>> {
    const log = new EventLog<E>(clock, format as EventFormat<E, unknown>, wording, options);
    const stored = await readStoredLog(persister, format, log.#maxEvents, clock.now() - log.#maxAgeMs);
    for (const event of stored.retained) log.events.append(event);
    log.#nodes = [...stored.nodes];
    for (const s of stored.unpurged) log.#unpurged.add(s);
    log.#published = stored.last;
    log.#allocated = stored.last;
    const first = log.events.first();
    log.#prunedThrough = first === undefined ? stored.last : first.sequence - 1n;
    log.#expire(clock.now(), 0);
    return log;
  }

  /**
   * Allocates the next `count` sequence numbers; `build` makes the events from the first one and
   * the time (in sequence order, `count` of them). Returns them with the ops that store them,
   * record the last sequence number and delete events that fell out of retention. The caller
   * puts the ops in its own multi, then calls `publish` or `abandon` with the events.
   */
  prepare(count: number, build: (first: bigint, timeMs: number) => E[]): { events: E[]; ops: PersisterOp[] } {
    const now = this.#clock.now();
    this.#expire(now, count);
    const first = this.#allocated + 1n;
    const events = build(first, now);
    if (events.length !== count || events.some((e, i) => e.sequence !== first + BigInt(i))) {
      throw new SchedulerError("internal", `a batch of ${count} events from ${first} was built as ${events.length} others`);
    }
    this.#allocated = first + BigInt(count) - 1n;
    const purge: bigint[] = [];
    const most = Math.max(MAX_PURGE_OPS, count);
    for (const s of this.#unpurged) {
      if (purge.length >= most) break;
      purge.push(s);
    }
    this.#pending.set(first, { last: this.#allocated, purge });
    return { events, ops: eventWriteOps(this.#format, events, purge) };
  }

  /** After the caller's multi succeeded: keep the events and deliver them (in sequence order) to watchers. */
  publish(events: readonly E[]): void {
    const pending = this.#settle(events, "publish");
    for (const s of pending.purge) this.#unpurged.delete(s);
    this.#ready.set(events[0]!.sequence, events);
    this.#flush();
  }

  /** After the caller's multi failed: the sequence numbers are reused when no later one is in use. */
  abandon(events: readonly E[]): void {
    this.#settle(events, "abandon");
    let highest = this.#published;
    for (const p of this.#pending.values()) if (p.last > highest) highest = p.last;
    for (const batch of this.#ready.values()) {
      const last = batch.at(-1)!.sequence;
      if (last > highest) highest = last;
    }
    this.#allocated = highest;
    this.#flush();
  }

  /**
   * Retained events with sequence > `start` that `filter` wants, then live ones, in sequence
   * order, until `filter.ended()` or the abort of `signal`. `after` is the caller's resume point:
   * it fails (on the first `next`) with out_of_range when it is beyond the last sequence number,
   * or below the retention (`after` = 0 never is). `filter` is made on the first `next` (it may
   * throw, e.g. not_found). Fails later with resource_exhausted when more than `watcherBuffer`
   * live events wait for it, or out_of_range when retention dropped an event it had not taken yet.
   * `return` (leaving a for-await loop) or the abort unsubscribes at once (event-iterator.ts).
   */
  watch(after: bigint, signal: AbortSignal, subscribe: () => { filter: WatchFilter<E>; start: bigint }): AsyncIterableIterator<E> {
    return watchIterator(
      signal,
      this.#watchers.cursor(() => {
        this.#checkResume(after);
        const { filter, start } = subscribe();
        return this.#watchers.add(filter, start, after);
      }),
    );
  }

  /** The highest sequence number watchers can have seen (0 when none). */
  lastSequence(): bigint {
    return this.#published;
  }

  stats(): EventLogStats {
    return {
      watchers: this.#watchers.size,
      retained: this.events.size,
      maxQueued: this.#watchers.maxQueued,
      overflows: this.#watchers.overflows,
      inFlight: this.#pending.size + this.#ready.size,
    };
  }

  /** Wipe (whole-scheduler uninstall): deletes every stored event and the sequence number. */
  wipeOps(): PersisterOp[] {
    return [{ kind: "delete", path: this.#format.root }];
  }

  // --- sequencing and retention ------------------------------------------------------------

  /** Moves published batches that no lower pending sequence number holds back into the log. */
  #flush(): void {
    if (this.#ready.size === 0) return;
    let floor: bigint | undefined;
    for (const s of this.#pending.keys()) if (floor === undefined || s < floor) floor = s;
    const due = [...this.#ready.keys()].filter((s) => floor === undefined || s < floor);
    due.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const s of due) {
      const batch = this.#ready.get(s)!;
      this.#ready.delete(s);
      this.#nodes.push({ first: s, last: batch.at(-1)!.sequence });
      for (const event of batch) {
        this.events.append(event);
        this.#published = event.sequence;
        this.#watchers.deliver(event);
      }
    }
  }

  #settle(events: readonly E[], what: string): Pending {
    const first = events[0]?.sequence;
    const pending = first === undefined ? undefined : this.#pending.get(first);
    if (first === undefined || pending === undefined) {
      throw new SchedulerError("internal", `${what} of ${this.#wording.events} from ${first}, which are not prepared or already settled`);
    }
    this.#pending.delete(first);
    return pending;
  }

  /** Drops events from memory beyond retention, leaving room for `room` more. */
  #expire(now: number, room: number): void {
    const oldest = now - this.#maxAgeMs;
    let dropped = false;
    for (let e = this.events.first(); e !== undefined; e = this.events.first()) {
      if (this.events.size + room <= this.#maxEvents && e.timeMs >= oldest) break;
      this.events.dropFirst();
      for (let n = this.#nodes[this.#nodeHead]; n !== undefined && n.last <= e.sequence; n = this.#nodes[this.#nodeHead]) {
        this.#unpurged.add(n.first);
        this.#nodeHead++;
      }
      this.#prunedThrough = e.sequence;
      dropped = true;
    }
    if (!dropped) return;
    this.#watchers.dropped();
    this.events.compact();
    if (this.#nodeHead > 1024 && this.#nodeHead * 2 > this.#nodes.length) {
      this.#nodes = this.#nodes.slice(this.#nodeHead);
      this.#nodeHead = 0;
    }
  }

  #checkResume(after: bigint): void {
    this.#expire(this.#clock.now(), 0);
    if (after > this.#published) {
      throw new SchedulerError(
        "out_of_range",
        `after=${after} is beyond the last ${this.#wording.events.replace(/s$/, "")} (${this.#published}); ${this.#wording.relist}`,
      );
    }
    if (after !== 0n && after < this.#prunedThrough) {
      throw new SchedulerError(
        "out_of_range",
        `after=${after} is older than the retained ${this.#wording.events} (events up to ${this.#prunedThrough} were dropped); ` +
          this.#wording.relist,
      );
    }
  }
}

function positiveInteger(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw SchedulerError.invalid([{ field, reason: `must be a positive integer, got ${value}` }]);
  }
  return value;
}
