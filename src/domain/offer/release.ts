/**
 * Giving reservations back (dcos-commons §3.3 and §3.7): the volumes among them are destroyed
 * first, then every reservation is unreserved. Used for a removed service's reservations and
 * for the unexpected reservations the offer cycle collects as garbage.
 */
import type { Operation, Resource } from "../cluster.js";

/** DESTROY the volumes among `resources`, then UNRESERVE them all. */
export function cleanupOperations(resources: readonly Resource[]): Operation[] {
  const volumes = resources.filter((r) => r.disk?.persistence !== undefined);
  const ops: Operation[] = [];
  if (volumes.length > 0) ops.push({ type: "DESTROY", volumes });
  // UNRESERVE takes the plain reservation, without the volume on top of it.
  const plain = resources.map((r) => {
    if (!r.disk?.persistence) return r;
    const { disk: _disk, ...rest } = r;
    return rest;
  });
  ops.push({ type: "UNRESERVE", resources: plain });
  return ops;
}
