/**
 * The open watches of an event log (event-log.ts): each is a cursor over the retained events
 * (event-window.ts) plus a count of the live events appended for it and not yet taken; it holds
 * no queue of its own, so 1,000 idle watchers cost 1,000 small objects. A watcher that lets
 * more than `buffer` live events wait fails with RESOURCE_EXHAUSTED, one whose cursor retention
 * overtook (an event for it was dropped untaken) with OUT_OF_RANGE.
 *
 * Watchers of every service sit in one set and watchers of names under each name, so an event
 * costs only the watchers it is for.
 */
import { SchedulerError } from "../domain/errors.js";
import type { WatchCursor } from "./event-iterator.js";
import type { RetainedEvents, SequencedEvent } from "./event-window.js";

/** Which events one watch wants, beyond its names, and when it ends (the log's kind decides). */
export interface WatchFilter<E> {
  /** undefined = every service. */
  readonly names: ReadonlySet<string> | undefined;
  /** An event of a watched name that the watch skips (WatchUninstall: an earlier removal's). */
  skips?(event: E): boolean;
  /** The watch took `event`. */
  took?(event: E): void;
  /** Nothing more will come. */
  ended?(): boolean;
}

/** One open watch: a cursor over the log. */
export interface Watcher<E> {
  /** Absolute index of the next event to look at. */
  next: number;
  /** Absolute index of the first live event (appended after the watch started). */
  readonly liveFrom: number;
  /** Live events for this watcher appended and not yet taken. */
  queued: number;
  readonly filter: WatchFilter<E>;
  /** Sequence number of the last event taken (initially `after`). */
  delivered: bigint;
  failure: SchedulerError | undefined;
  wake: (() => void) | undefined;
  subscribed: boolean;
}

/** How the errors of a log's watchers name it: `uninstall events`, and how to start over. */
export interface LogWording {
  readonly events: string;
  readonly relist: string;
}

export class EventWatchers<E extends SequencedEvent> {
  readonly #all = new Set<Watcher<E>>();
  readonly #wildcard = new Set<Watcher<E>>();
  readonly #byName = new Map<string, Set<Watcher<E>>>();
  #maxQueued = 0;
  #overflows = 0;

  constructor(
    private readonly events: RetainedEvents<E>,
    private readonly buffer: number,
    private readonly wording: LogWording,
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

  /** A watch of `filter` from the first event after `start`; `after` (checked by the caller) is what it reports as delivered. */
  add(filter: WatchFilter<E>, start: bigint, after: bigint): Watcher<E> {
    const w: Watcher<E> = {
      next: this.events.indexAfter(start),
      liveFrom: this.events.endIndex(),
      queued: 0,
      filter,
      delivered: after,
      failure: undefined,
      wake: undefined,
      subscribed: true,
    };
    this.#all.add(w);
    if (filter.names === undefined) this.#wildcard.add(w);
    else {
      for (const n of filter.names) {
        let set = this.#byName.get(n);
        if (set === undefined) this.#byName.set(n, (set = new Set()));
        set.add(w);
      }
    }
    return w;
  }

  /** The cursor a watch's iterator drives; `subscribe` adds the watcher (and may throw). */
  cursor(subscribe: () => Watcher<E>): WatchCursor<E> {
    let w: Watcher<E> | undefined;
    return {
      subscribe: () => {
        w = subscribe();
      },
      unsubscribe: () => {
        if (w !== undefined) this.remove(w);
      },
      ended: () => w?.filter.ended?.() === true,
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

  remove(w: Watcher<E>): void {
    if (!w.subscribed) return;
    w.subscribed = false;
    this.#all.delete(w);
    const names = w.filter.names;
    if (names === undefined) this.#wildcard.delete(w);
    else {
      for (const n of names) {
        const set = this.#byName.get(n);
        set?.delete(w);
        if (set?.size === 0) this.#byName.delete(n);
      }
    }
  }

  /** An event was appended to the log: wake the watchers it is for. */
  deliver(event: E): void {
    for (const w of this.#wildcard) this.#deliverTo(w);
    const named = this.#byName.get(event.name);
    if (named !== undefined) for (const w of named) if (w.filter.skips?.(event) !== true) this.#deliverTo(w);
  }

  #deliverTo(w: Watcher<E>): void {
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
          `watcher fell behind the retention of ${this.wording.events} (delivered up to ${w.delivered}); ${this.wording.relist}`,
        ),
      );
    }
  }

  #fail(w: Watcher<E>, error: SchedulerError): void {
    w.failure = error;
    this.remove(w);
    w.wake?.();
  }

  /** The watcher's next event, or undefined when it has taken everything so far. */
  take(w: Watcher<E>): E | undefined {
    if (w.failure !== undefined) throw w.failure;
    const end = this.events.endIndex();
    while (w.next < end) {
      const index = w.next++;
      const event = this.events.at(index);
      if (!matches(w, event)) continue;
      if (index >= w.liveFrom) w.queued--;
      w.delivered = event.sequence;
      w.filter.took?.(event);
      return event;
    }
    return undefined;
  }
}

function matches<E extends SequencedEvent>(w: Watcher<E>, event: E): boolean {
  const names = w.filter.names;
  if (names === undefined) return true;
  return names.has(event.name) && w.filter.skips?.(event) !== true;
}
