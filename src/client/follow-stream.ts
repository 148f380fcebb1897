/**
 * Resuming event streams (WatchUninstall, WatchPlans) across a leader's death or step-down: when
 * the stream breaks, it is issued again — at the leader, wherever that now is (leader-router.ts)
 * — with `after` = the last sequence seen, after a short back-off, until the caller's signal
 * aborts. The events live in the shared store, so a new leader goes on with the same sequence
 * numbers, and the caller sees every event once: sequences strictly increase, none is skipped
 * (an event at or below the last seen, which a resumed stream cannot send, is dropped anyway).
 *
 * Resumed: UNAVAILABLE (the leader died or stepped down, a standby answered, none reachable),
 * CANCELLED that the caller did not ask for (a scheduler stopping), RESOURCE_EXHAUSTED (the
 * caller fell behind), and a stream that ends by itself when it would not have (every WatchPlans,
 * a WatchUninstall of all services: they end only when the scheduler goes away). A WatchUninstall
 * of named services that ends has told every named removal's end: the follow ends too. Anything
 * else (OUT_OF_RANGE: the sequence is no longer retained; INVALID_ARGUMENT, …) is thrown.
 */
import { setTimeout as delay } from "node:timers/promises";
import * as grpc from "@grpc/grpc-js";
import type { CallOptions } from "./promise-client.js";
import { isStatus } from "./retry-rule.js";

export interface FollowOptions extends CallOptions {
  /** Called before each re-issue: the sequence it resumes after and why the stream ended (undefined: it ended by itself). */
  readonly onResume?: (info: { readonly after: bigint; readonly error: unknown }) => void;
  /** Stop resuming when re-issuing has failed for this long without an event; the last error is thrown. @default no limit (until `signal` aborts) */
  readonly reconnectForMs?: number;
  /** First wait before a re-issue; doubled per failure in a row. @default 100 */
  readonly retryDelayMs?: number;
  /** Longest wait between re-issues. @default 2000 */
  readonly maxRetryDelayMs?: number;
  /** The clock of `reconnectForMs` (tests). @default Date.now */
  readonly now?: () => number;
}

/**
 * A stream that stayed open this long had reached a scheduler (an attempt that reaches none ends
 * sooner: refused at once, or passed after the connect timeout), so its break starts a new
 * `reconnectForMs` window even when no event came.
 */
const OPEN_FOR_MS = 10_000;

/** A response carrying one sequenced event. */
export interface Sequenced {
  readonly event?: { readonly sequence: bigint } | undefined;
}

const RESUMED: ReadonlySet<number> = new Set([grpc.status.UNAVAILABLE, grpc.status.CANCELLED, grpc.status.RESOURCE_EXHAUSTED]);

/**
 * Iterates `open(after)` and opens it again after the last sequence seen whenever it breaks.
 * `endsWhenDone`: a normal end of the stream is the end of what was asked for.
 */
export async function* resuming<R extends Sequenced>(
  open: (after: bigint, options: CallOptions) => AsyncIterable<R>,
  first: bigint,
  endsWhenDone: boolean,
  options: FollowOptions,
): AsyncGenerator<R> {
  const { signal } = options;
  const initialDelay = options.retryDelayMs ?? 100;
  const maxDelay = options.maxRetryDelayMs ?? 2000;
  const call: CallOptions = {
    ...(options.metadata === undefined ? {} : { metadata: options.metadata }),
    ...(signal === undefined ? {} : { signal }),
    ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
  };
  const now = options.now ?? Date.now;
  let after = first;
  let failures = 0;
  let failingSince: number | undefined;
  for (;;) {
    let error: unknown;
    const opened = now();
    try {
      for await (const response of open(after, call)) {
        const sequence = response.event?.sequence;
        if (sequence !== undefined) {
          if (sequence <= after) continue;
          after = sequence;
        }
        failures = 0;
        failingSince = undefined;
        yield response;
      }
      if (endsWhenDone) return;
    } catch (err) {
      error = err;
    }
    if (signal?.aborted === true) throw error ?? cancelled();
    if (error !== undefined && !(isStatus(error) && RESUMED.has(error.code))) throw error;
    if (now() - opened >= OPEN_FOR_MS) [failingSince, failures] = [undefined, 0];
    failingSince ??= now();
    if (options.reconnectForMs !== undefined && now() - failingSince > options.reconnectForMs) {
      throw error ?? Object.assign(new Error("the event stream keeps ending"), { code: grpc.status.UNAVAILABLE, details: "the event stream keeps ending", metadata: new grpc.Metadata() });
    }
    options.onResume?.({ after, error });
    try {
      await delay(Math.min(initialDelay * 2 ** failures++, maxDelay), undefined, signal === undefined ? {} : { signal });
    } catch {
      throw error ?? cancelled();
    }
  }
}

/** The error an aborted call fails with, as grpc-js makes it. */
function cancelled(): grpc.ServiceError {
  return Object.assign(new Error("1 CANCELLED: Cancelled on client"), { code: grpc.status.CANCELLED, details: "Cancelled on client", metadata: new grpc.Metadata() });
}
