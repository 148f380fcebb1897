/**
 * The warnings of a put that depend on the cluster the scheduler drives (driver-notes.ts says
 * which keys it cannot act on there), added to the spec's own: one list, dry run or not.
 */
import { driverNotes } from "../domain/spec/driver-notes.js";
import type { ClusterCapabilities } from "../domain/spec/driver-notes.js";
import type { SpecWarning } from "../domain/spec/types.js";
import type { BuiltService } from "./service-context.js";

export type { ClusterCapabilities } from "../domain/spec/driver-notes.js";

/** `built` with the driver's notes after its own warnings (none when the capabilities are unknown); an exact repeat is left out. */
export function withDriverNotes(built: BuiltService, caps: ClusterCapabilities | undefined): BuiltService {
  if (!caps) return built;
  const seen = new Set(built.warnings.map(key));
  const notes = driverNotes(built.spec, caps).filter((w) => !seen.has(key(w)) && seen.add(key(w)));
  return notes.length === 0 ? built : { ...built, warnings: [...built.warnings, ...notes] };
}

const key = (w: SpecWarning): string => `${w.field}\u0000${w.message}`;
