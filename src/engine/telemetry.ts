/**
 * The engine's tracing port: spans around its own units of work (an offer cycle, a service's
 * offer evaluation, recovery, a put), each naming the Corral service it concerns. The engine
 * knows no tracing library; the adapter (OpenTelemetry) nests the store's and the driver's spans
 * under the one that is current.
 */

/** Span attribute naming the Corral service a span concerns (set on every span that has one). */
export const SERVICE_ATTRIBUTE = "corral.service";

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

/** Attributes, or how to compute them: a span the sampler leaves out never computes them. */
export type LazySpanAttributes = SpanAttributes | (() => SpanAttributes);

export interface SpanOptions {
  /**
   * Work the engine starts on its own (an offer cycle, a status batch, recovery, a removal's
   * end): a trace of its own, never part of the request or the timer that led to it. Other
   * spans are parts of the trace they run in, and not recorded outside one.
   */
  readonly newTrace?: boolean;
}

export interface Tracer {
  /**
   * Runs `fn` inside a span called `name`; the span ends when `fn` settles, failed when it throws.
   * Whether the span is recorded is the tracer's business (its budget): `fn` runs either way.
   */
  inSpan<T>(name: string, attributes: LazySpanAttributes, fn: () => Promise<T>, options?: SpanOptions): Promise<T>;
}

/** Tracing off: `fn` runs as it is. */
export const NO_TRACER: Tracer = { inSpan: (_name, _attributes, fn) => fn() };

export const NEW_TRACE: SpanOptions = { newTrace: true };
