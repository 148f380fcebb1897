/**
 * How an engine span names the Corral services it concerns (telemetry.ts SERVICE_ATTRIBUTE), the
 * same way the tracing adapter's store and driver spans do: one service by its name; several by
 * the first by name and their count, so a search by service still finds the span.
 */
import { SERVICE_ATTRIBUTE } from "./telemetry.js";

export const SERVICE_COUNT_ATTRIBUTE = "corral.service.count";

export function serviceSpanAttributes(names: Iterable<string>): Record<string, string | number> {
  const sorted = [...new Set(names)].sort();
  if (sorted.length === 0) return {};
  if (sorted.length === 1) return { [SERVICE_ATTRIBUTE]: sorted[0]! };
  return { [SERVICE_ATTRIBUTE]: sorted[0]!, [SERVICE_COUNT_ATTRIBUTE]: sorted.length };
}
