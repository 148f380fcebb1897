/**
 * The engine's Tracer port (engine/telemetry.ts) on OpenTelemetry: each unit of work is a span
 * in the current context, so the store's and the driver's spans it causes become its children;
 * work the engine starts itself (`newTrace`) begins a trace of its own. A timer armed inside a
 * request (a PutService schedules the next offer cycle) keeps that request's context, and every
 * cycle arms the next: without a trace each, all later cycles would hang under the first request.
 */
import type { Tracer } from "../../engine/telemetry.js";
import type { SpanRunner } from "./span-runner.js";

export function engineTracer(spans: SpanRunner): Tracer {
  return {
    inSpan: (name, attributes, fn, options) => spans.inSpan(name, attributes, fn, options?.newTrace === true),
  };
}
