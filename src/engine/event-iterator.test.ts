import { describe, expect, it } from "vitest";
import { watchIterator } from "./event-iterator.js";
import type { WatchCursor } from "./event-iterator.js";

/** A cursor that never has an event: a watch on it waits until it is aborted or returned. */
function emptyCursor(): WatchCursor<number> & { subscribed: number; unsubscribed: number } {
  let wake = (): void => undefined;
  return {
    subscribed: 0,
    unsubscribed: 0,
    subscribe() {
      this.subscribed++;
    },
    unsubscribe() {
      this.unsubscribed++;
    },
    ended: () => false,
    take: () => undefined,
    sleep: () => new Promise<void>((r) => (wake = r)),
    wake: () => wake(),
  };
}

describe("watchIterator", () => {
  it("a watch aborted between its creation and its first next() ends at once, never subscribed", async () => {
    const stop = new AbortController();
    const cursor = emptyCursor();
    const watch = watchIterator(stop.signal, cursor);
    stop.abort(); // the call was cancelled before the handler's first pull
    const first = watch.next();
    expect(cursor.subscribed).toBe(0);
    await expect(first).resolves.toEqual({ done: true, value: undefined });
  });

  it("an abort while waiting for an event ends the watch and unsubscribes", async () => {
    const stop = new AbortController();
    const cursor = emptyCursor();
    const watch = watchIterator(stop.signal, cursor);
    const first = watch.next();
    expect(cursor.subscribed).toBe(1);
    stop.abort();
    await expect(first).resolves.toEqual({ done: true, value: undefined });
    expect(cursor.unsubscribed).toBeGreaterThan(0);
  });
});
