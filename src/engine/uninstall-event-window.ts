/**
 * The retained uninstall events in memory, in sequence order, held once for every watcher.
 * Events are addressed by absolute index (an event keeps its index while older ones are
 * dropped), which is what a watcher's cursor holds (uninstall-watchers.ts).
 */
import { isTerminal } from "./uninstall-event-codec.js";
import type { LoggedEvent } from "./uninstall-event-codec.js";

/** Dropped entries are spliced off the array once this many pile up (and at least half of it). */
const COMPACT_AFTER = 1024;

export class RetainedEvents {
  /** Retained events are `#entries[#head..]`; `#dropped` counts entries spliced off the front. */
  #entries: LoggedEvent[] = [];
  #head = 0;
  #dropped = 0;
  /** The last event of each name among the retained ones. */
  readonly #lastByName = new Map<string, LoggedEvent>();

  get size(): number {
    return this.#entries.length - this.#head;
  }

  first(): LoggedEvent | undefined {
    return this.#entries[this.#head];
  }

  /** Absolute index of the oldest retained event. */
  firstIndex(): number {
    return this.#dropped + this.#head;
  }

  /** Absolute index the next appended event gets. */
  endIndex(): number {
    return this.#dropped + this.#entries.length;
  }

  at(index: number): LoggedEvent {
    return this.#entries[index - this.#dropped]!;
  }

  /** Absolute index of the first retained event with sequence > `after`. */
  indexAfter(after: bigint): number {
    let lo = this.#head;
    let hi = this.#entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.#entries[mid]!.sequence <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.#dropped + lo;
  }

  /** The last retained event of `name`. */
  lastOf(name: string): LoggedEvent | undefined {
    return this.#lastByName.get(name);
  }

  /**
   * The removal of `name` in progress as far as the retained events tell (its last event is not
   * COMPLETED or FORCED): its id, or 0 when none (or its events are no longer retained).
   */
  currentRemoval(name: string): bigint {
    const last = this.#lastByName.get(name);
    return last === undefined || isTerminal(last) ? 0n : last.removalId;
  }

  append(event: LoggedEvent): void {
    this.#entries.push(event);
    this.#lastByName.set(event.name, event);
  }

  /** Drops the oldest event (the caller checked there is one). */
  dropFirst(): LoggedEvent {
    const e = this.#entries[this.#head++]!;
    if (this.#lastByName.get(e.name) === e) this.#lastByName.delete(e.name);
    return e;
  }

  /** Frees the array space of dropped events once they are many. */
  compact(): void {
    if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#dropped += this.#head;
      this.#head = 0;
    }
  }
}
