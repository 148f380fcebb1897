/**
 * The engine's tracing port: spans around its own units of work (an offer cycle, a service's
 * offer evaluation, recovery, a put), each naming the Corral service it concerns. The engine
 * knows no tracing library; the adapter (OpenTelemetry) nests the store's and the driver's spans
 * under the one that is current.
 *
 * The trace is carried explicitly, not by async hooks (on Node 20 they slow every await of the
 * process once turned on, even briefly): a span is current while its work runs synchronously, and
 * the engine's serialized work — the work queue runs one item at a time — is the unit whose trace
 * store and cluster calls made after an `await` belong to. Hence the engine's duties:
 *  - a work item is run by `unit`, given the trace of the request it serves (`current()` taken
 *    while the request's code runs synchronously);
 *  - a store or cluster call made beside the running item (a timer's retry, a write that goes
 *    on after its item) is made through `outside`, or it would count as the item's.
 */

import type { Clock } from "./ports.js";

/** Span attribute naming the Corral service a span concerns (set on every span that has one). */
export const SERVICE_ATTRIBUTE = "corral.service";

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/** Attributes, or how to compute them: a span the tracer leaves out never computes them. */
export type LazySpanAttributes = SpanAttributes | (() => SpanAttributes);

export interface SpanOptions {
  /**
   * Work the engine starts on its own (an offer cycle, a status batch, recovery, a removal's
   * end): a trace of its own, never part of the request or the timer that led to it. Other
   * spans are parts of the trace they run in, and not recorded outside one.
   */
  readonly newTrace?: boolean;
}

/** A trace handed from a request to the work item that serves it (opaque to the engine). */
export type TraceRef = { readonly __brand: "TraceRef" };

export interface Tracer {
  /**
   * Runs `fn` inside a span called `name`; the span ends when `fn` settles, failed when it throws.
   * Whether the span is recorded is the tracer's business (its budget): `fn` runs either way.
   */
  inSpan<T>(name: string, attributes: LazySpanAttributes, fn: () => Promise<T>, options?: SpanOptions): Promise<T>;
  /** The span current right now (synchronously), to hand to a work item; undefined after an `await`. */
  current(): TraceRef | undefined;
  /** Runs a work item as part of `trace` (none: no trace but its own spans'); one at a time. */
  unit<T>(trace: TraceRef | undefined, fn: () => Promise<T>): Promise<T>;
  /** Calls `fn` now, outside every trace: the calls it makes synchronously belong to none. */
  outside<T>(fn: () => T): T;
}

/** Tracing off: everything runs as it is. */
export const NO_TRACER: Tracer = {
  inSpan: (_name, _attributes, fn) => fn(),
  current: () => undefined,
  unit: (_trace, fn) => fn(),
  outside: (fn) => fn(),
};

export const NEW_TRACE: SpanOptions = { newTrace: true };

/** `clock` whose timer callbacks run `outside` every trace (they fire beside whatever work item runs). */
export function outsideTimers(clock: Clock, tracer: Tracer): Clock {
  return { now: () => clock.now(), setTimer: (delayMs, fn) => clock.setTimer(delayMs, () => tracer.outside(fn)) };
}
