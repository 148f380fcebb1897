/**
 * The engine's tracing port: spans around its own units of work (an offer cycle, a service's
 * offer evaluation, recovery, a put), each naming the Corral service it concerns. The engine
 * knows no tracing library; the adapter (OpenTelemetry) nests the store's and the driver's spans
 * under the one that is current.
 */

/** Span attribute naming the Corral service a span concerns (set on every span that has one). */
export const SERVICE_ATTRIBUTE = "corral.service";

export type SpanAttributes = Readonly<Record<string, string | number | boolean>>;

export interface Tracer {
  /** Runs `fn` inside a span called `name`; the span ends when `fn` settles, failed when it throws. */
  inSpan<T>(name: string, attributes: SpanAttributes, fn: () => Promise<T>): Promise<T>;
}

/** Tracing off: `fn` runs as it is. */
export const NO_TRACER: Tracer = { inSpan: (_name, _attributes, fn) => fn() };
