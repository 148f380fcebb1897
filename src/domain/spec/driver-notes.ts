/**
 * STUB of the spec helper's file (issue 15), only so the engine branch compiles: the keys a
 * cluster driver cannot act on, as warnings. The spec helper's version replaces it at merge.
 */
import type { ServiceSpec, SpecWarning } from "./types.js";

export interface ClusterCapabilities {
  readonly kind: "local" | "mesos" | "sim";
  readonly cgroups: boolean;
}

export function driverNotes(_spec: ServiceSpec, _caps: ClusterCapabilities): SpecWarning[] {
  return [];
}
