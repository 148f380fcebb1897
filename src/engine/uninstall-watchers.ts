/**
 * The open WatchUninstall watches of the event log: each is a cursor over the retained events
 * (uninstall-event-window.ts) plus a count of the live events appended for it and not yet
 * taken; it holds no queue of its own, so 1,000 idle watchers cost 1,000 small objects. A
 * watcher that lets more than `buffer` live events wait fails with RESOURCE_EXHAUSTED, one whose
 * cursor retention overtook (an event for it was dropped untaken) with OUT_OF_RANGE.
 *
 * Watchers of every service sit in one set and watchers of names under each name, so an event
 * costs only the watchers it is for.
 */
import { SchedulerError, abbreviateList } from "../domain/errors.js";
import { isTerminal } from "./uninstall-event-codec.js";
import type { LoggedEvent } from "./uninstall-event-codec.js";
import type { WatchCursor } from "./uninstall-event-iterator.js";
import type { RetainedEvents } from "./uninstall-event-window.js";

/** One open watch: a cursor over the log. */
export interface Watcher {
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

export class UninstallWatchers {
  readonly #all = new Set<Watcher>();
  readonly #wildcard = new Set<Watcher>();
  readonly #byName = new Map<string, Set<Watcher>>();
  #maxQueued = 0;
  #overflows = 0;

  constructor(
    private readonly events: RetainedEvents,
    private readonly buffer: number,
  ) {}

  get size(): number {
    return this.#all.size;
  }

  /** The most live events that ever waited for one watcher. */
  get maxQueued(): number {
    return this.#maxQueued;
  }

  /** Watchers failed with RESOURCE_EXHAUSTED so far. */
  get overflows(): number {
    return this.#overflows;
  }

  /**
   * A watch of `names` (empty: every service) from `after` (checked by the caller), as
   * UninstallEventLog.watch describes. Fails with not_found for a name that is no service
   * (`isKnown`) and has no retained event.
   */
  add(names: readonly string[], after: bigint, isKnown: (name: string) => boolean): Watcher {
    const wanted = names.length === 0 ? undefined : new Set(names);
    let open: Set<string> | undefined;
    let from: Map<string, bigint> | undefined;
    let start = after;
    if (wanted !== undefined) {
      const unknown = [...wanted].filter((n) => !isKnown(n) && this.events.lastOf(n) === undefined);
      if (unknown.length > 0) {
        throw new SchedulerError("not_found", `no service and no uninstall events for: ${abbreviateList(unknown)}`);
      }
      open = new Set();
      for (const n of wanted) {
        const last = this.events.lastOf(n);
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
      next: this.events.indexAfter(start),
      liveFrom: this.events.endIndex(),
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

  /** The cursor a watch's iterator drives; `subscribe` adds the watcher (and may throw). */
  cursor(subscribe: () => Watcher): WatchCursor<LoggedEvent> {
    let w: Watcher | undefined;
    return {
      subscribe: () => {
        w = subscribe();
      },
      unsubscribe: () => {
        if (w !== undefined) this.remove(w);
      },
      ended: () => w?.open?.size === 0,
      take: () => (w === undefined ? undefined : this.take(w)),
      sleep: () =>
        new Promise<void>((resolve) => {
          const watcher = w!;
          watcher.wake = () => {
            watcher.wake = undefined;
            resolve();
          };
        }),
      wake: () => w?.wake?.(),
    };
  }

  /** For a watch from the start: the removal each name follows, where it is not "every removal". */
  #followed(names: ReadonlySet<string>, isKnown: (name: string) => boolean): Map<string, bigint> {
    const from = new Map<string, bigint>();
    for (const n of names) {
      const last = this.events.lastOf(n);
      if (last === undefined) continue; // no retained event: whatever comes
      if (!isTerminal(last)) from.set(n, last.removalId); // in progress
      else if (isKnown(n)) from.set(n, last.sequence + 1n); // put again: its next removal
      else from.set(n, last.removalId); // gone: its latest removal
    }
    for (const [n, id] of from) if (id === 0n) from.delete(n); // unknown removal: every one
    return from;
  }

  remove(w: Watcher): void {
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

  /** An event was appended to the log: wake the watchers it is for. */
  deliver(event: LoggedEvent): void {
    for (const w of this.#wildcard) this.#deliverTo(w);
    const named = this.#byName.get(event.name);
    if (named !== undefined) for (const w of named) if (matches(w, event)) this.#deliverTo(w);
  }

  #deliverTo(w: Watcher): void {
    w.queued++;
    if (w.queued > this.buffer) {
      this.#overflows++;
      this.#fail(
        w,
        new SchedulerError(
          "resource_exhausted",
          `watcher fell behind: more than ${this.buffer} events waiting; ` +
            `resume with after=<the last sequence received> (this watch delivered up to ${w.delivered})`,
        ),
      );
      return;
    }
    if (w.queued > this.#maxQueued) this.#maxQueued = w.queued;
    w.wake?.();
  }

  /** Retention dropped events: a watcher whose cursor was among them fails if one of them was for it. */
  dropped(): void {
    const first = this.events.firstIndex();
    for (const w of this.#all) {
      if (w.next >= first) continue;
      let missed = false;
      for (let i = w.next; i < first && !missed; i++) missed = matches(w, this.events.at(i));
      if (!missed) {
        w.next = first;
        continue;
      }
      this.#fail(
        w,
        new SchedulerError(
          "out_of_range",
          `watcher fell behind the retention of uninstall events (delivered up to ${w.delivered}); ` +
            "re-list with ListServices and watch from 0",
        ),
      );
    }
  }

  #fail(w: Watcher, error: SchedulerError): void {
    w.failure = error;
    this.remove(w);
    w.wake?.();
  }

  /** The watcher's next event, or undefined when it has taken everything so far. */
  take(w: Watcher): LoggedEvent | undefined {
    if (w.failure !== undefined) throw w.failure;
    const end = this.events.endIndex();
    while (w.next < end) {
      const index = w.next++;
      const event = this.events.at(index);
      if (!matches(w, event)) continue;
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

function matches(w: Watcher, event: LoggedEvent): boolean {
  if (w.names === undefined) return true;
  if (!w.names.has(event.name)) return false;
  const from = w.from?.get(event.name);
  return from === undefined || event.removalId >= from;
}
