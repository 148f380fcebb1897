/**
 * The retained events of an event log (event-log.ts) in memory, in sequence order, held once
 * for every watcher. Events are addressed by absolute index (an event keeps its index while
 * older ones are dropped), which is what a watcher's cursor holds (event-watchers.ts).
 */

/** What every logged event has: its place in the log, the service it concerns, when. */
export interface SequencedEvent {
  readonly sequence: bigint;
  /** The service. */
  readonly name: string;
  readonly timeMs: number;
}

/** Dropped entries are spliced off the array once this many pile up (and at least half of it). */
const COMPACT_AFTER = 1024;

export class RetainedEvents<E extends SequencedEvent> {
  /** Retained events are `#entries[#head..]`; `#dropped` counts entries spliced off the front. */
  #entries: E[] = [];
  #head = 0;
  #dropped = 0;
  /** The last event of each name among the retained ones. */
  readonly #lastByName = new Map<string, E>();

  get size(): number {
    return this.#entries.length - this.#head;
  }

  first(): E | undefined {
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

  at(index: number): E {
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
  lastOf(name: string): E | undefined {
    return this.#lastByName.get(name);
  }

  append(event: E): void {
    this.#entries.push(event);
    this.#lastByName.set(event.name, event);
  }

  /** Drops the oldest event (the caller checked there is one). */
  dropFirst(): E {
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
