/**
 * The engine's Tracer port (engine/telemetry.ts) on OpenTelemetry: each unit of work is a span
 * in the current context, so the store's and the driver's spans it causes become its children.
 */
import type { Tracer } from "../../engine/telemetry.js";
import type { SpanRunner } from "./span-runner.js";

/**
 * Units of work the runner starts from its own timers and cluster events. A timer armed inside a
 * request (a PutService schedules the next offer cycle) keeps that request's context, and every
 * cycle arms the next: without a fresh trace each, all later cycles would hang under the first
 * request's trace forever.
 */
export const ROOT_SPANS: ReadonlySet<string> = new Set(["engine.offerCycle", "engine.statusUpdates"]);

export function engineTracer(spans: SpanRunner): Tracer {
  return {
    inSpan: (name, attributes, fn) => spans.inSpan(name, attributes, fn, ROOT_SPANS.has(name)),
  };
}
