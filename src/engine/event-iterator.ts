/**
 * The async iterator of one watch (WatchUninstall, WatchPlans) over a cursor of an event log
 * (event-log.ts). Hand-written rather than an async generator: with 1,000 watchers every
 * event is taken 1,000 times, and a ready event here costs one resolved promise.
 *
 * Subscribes on the first `next`; `return` (leaving a for-await loop), the cursor ending or
 * failing, and the abort of `signal` unsubscribe at once (an abort also while the consumer holds
 * an event and calls nothing).
 */

/** A position in the log, as the iterator drives it. Every method but `subscribe` may be called before it. */
export interface WatchCursor<T> {
  /** Joins the log; may throw (the iterator then rejects with it). */
  subscribe(): void;
  /** Leaves the log; idempotent. */
  unsubscribe(): void;
  /** Nothing more will come (WatchUninstall: every watched removal ended). */
  ended(): boolean;
  /** The next event, or undefined when there is none yet; throws when the cursor failed. */
  take(): T | undefined;
  /** Resolves on the next `wake` (an event arrived, the cursor failed, or the watch ends). */
  sleep(): Promise<void>;
  /** Resolves a pending `sleep`, if any. */
  wake(): void;
}

export function watchIterator<T>(signal: AbortSignal, cursor: WatchCursor<T>): AsyncIterableIterator<T> {
  type Result = IteratorResult<T, undefined>;
  const DONE: Result = { done: true, value: undefined };
  let subscribed = false;
  let finished = false;
  let aborted = signal.aborted; // a flag, not the getter, on the per-event path
  let waiting: Promise<Result> | undefined;
  const onAbort = (): void => {
    aborted = true;
    cursor.unsubscribe();
    cursor.wake();
  };
  const finish = (): void => {
    finished = true;
    signal.removeEventListener("abort", onAbort);
    cursor.unsubscribe();
    cursor.wake();
  };
  const pull = (): Promise<Result> => {
    try {
      if (finished) return Promise.resolve(DONE);
      if (aborted) {
        finish();
        return Promise.resolve(DONE);
      }
      if (!subscribed) {
        // Aborted before the first pull: a listener added now would never fire.
        if (signal.aborted) {
          finish();
          return Promise.resolve(DONE);
        }
        cursor.subscribe();
        subscribed = true;
        signal.addEventListener("abort", onAbort, { once: true });
      }
      if (cursor.ended()) {
        finish();
        return Promise.resolve(DONE);
      }
      const event = cursor.take();
      if (event !== undefined) {
        if (cursor.ended()) finish(); // nothing more will come: let go now
        return Promise.resolve({ done: false, value: event });
      }
      const p = cursor.sleep().then(() => {
        waiting = undefined;
        return pull();
      });
      waiting = p;
      return p;
    } catch (err) {
      finish();
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
  };
  const iterator: AsyncIterableIterator<T> = {
    // Overlapping next() calls (for-await never makes them) queue behind the waiting one.
    next: () => (waiting === undefined ? pull() : waiting.then(pull, pull)),
    return: () => {
      finish();
      return Promise.resolve(DONE);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}
