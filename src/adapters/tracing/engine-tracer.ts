/**
 * The engine's Tracer port (engine/telemetry.ts) on OpenTelemetry: each unit of work is a span
 * in the current context, so the store's and the driver's spans it causes become its children;
 * work the engine starts itself (`newTrace`) begins a trace of its own. A timer armed inside a
 * request (a PutService schedules the next offer cycle) runs long after it: without a trace each,
 * later cycles would hang under the request that armed the first.
 */
import type { Context } from "@opentelemetry/api";
import type { TraceRef, Tracer } from "../../engine/telemetry.js";
import type { SpanRunner } from "./span-runner.js";

export function engineTracer(spans: SpanRunner): Tracer {
  return {
    inSpan: (name, attributes, fn, options) => spans.inSpan(name, attributes, fn, options?.newTrace === true),
    // The engine only hands the reference back (WorkQueue): it is the context itself.
    current: () => spans.current() as unknown as TraceRef | undefined,
    unit: (trace, fn) => spans.unit(trace as unknown as Context | undefined, fn),
    outside: (fn) => spans.outside(fn),
  };
}
