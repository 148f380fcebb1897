/**
 * Fitting one resource set of a pod into an offer: a new one is reserved from the pod's source
 * (reserver.ts) and its volumes are created; one the pod instance already holds must come back
 * as the same reservations on the same agent (relaunch in place), grown or shrunk to its spec.
 */
import type { Operation, Resource } from "../cluster.js";
import { LABEL_RESOURCE_ID } from "../cluster.js";
import type { ResourceSetSpec } from "../spec/types.js";
import type { Reserver } from "./reserver.js";

export type Fit = { ok: true; resources: Resource[]; ops: Operation[] } | { ok: false; reason: string };

const EPSILON = 1e-6;

/** Mesos scalars have three decimals. */
export function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export function resourceIdOf(r: Resource): string {
  return r.reservations?.at(-1)?.labels[LABEL_RESOURCE_ID] ?? "";
}

function wantedScalars(rs: ResourceSetSpec): [string, number][] {
  return [["cpus", rs.cpus], ["mem", rs.memoryMb], ["gpus", rs.gpus]];
}

/** The port resource reserved for `port`, or why it cannot be. */
function newPort(r: Reserver, port: ResourceSetSpec["ports"][number]): Resource | string {
  const chosen = r.port(port);
  if (typeof chosen === "string") return chosen;
  return { name: "ports", type: "RANGES", ranges: [{ begin: chosen, end: chosen }], reservations: r.reservation() };
}

export function fitNew(r: Reserver, rs: ResourceSetSpec): Fit {
  const wanted = wantedScalars(rs);
  const diskMb = rs.volumes.reduce((sum, v) => sum + v.sizeMb, 0);
  for (const [name, amount] of [...wanted, ["disk", diskMb] as [string, number]]) {
    if (!r.take(name, amount)) return { ok: false, reason: r.short(`insufficient ${name}`, name, amount) };
  }
  const resources = wanted.filter(([, a]) => a > 0).map(([n, a]) => r.reserve(n, a));
  for (const port of rs.ports) {
    const got = newPort(r, port);
    if (typeof got === "string") return { ok: false, reason: got };
    resources.push(got);
  }
  const created = createVolumes(r, rs.volumes);
  const ops: Operation[] = [{ type: "RESERVE", resources: [...resources, ...created.disks] }];
  if (created.volumes.length > 0) ops.push({ type: "CREATE", volumes: created.volumes });
  return { ok: true, resources: [...resources, ...created.volumes], ops };
}

/**
 * Reserved disks for `volumes` (already taken from the pool) and the persistent volumes made on
 * them (CREATE), each mounted at its spec path.
 */
export function createVolumes(r: Reserver, volumes: ResourceSetSpec["volumes"]): { disks: Resource[]; volumes: Resource[] } {
  const disks = volumes.map((v) => r.reserve("disk", v.sizeMb));
  const created: Resource[] = disks.map((d, i) => ({
    ...d,
    disk: { persistence: { id: r.newId() }, volume: { containerPath: volumes[i]?.path ?? "", mode: "RW" } },
  }));
  return { disks, volumes: created };
}

/**
 * A resource set the pod instance already holds, fitted to its (maybe changed) spec on the same
 * agent: the same reservations, grown by a RESERVE of the difference under the same labels, or
 * shrunk by an UNRESERVE of the surplus; volumes are kept as they are (a reconfiguration never
 * destroys them). A port whose number changed is released and a new one reserved.
 */
export function fitHeld(r: Reserver, rs: ResourceSetSpec, held: readonly Resource[]): Fit {
  const resources: Resource[] = [];
  const grow: Resource[] = [];
  const shrink: Resource[] = [];
  const agentId = r.agentId;
  const take = (h: Resource): Resource | undefined => r.pool.takeReserved(resourceIdOf(h));
  const missing = (h: Resource): Fit => ({ ok: false, reason: `reserved ${h.name} (resource_id ${resourceIdOf(h)}) not in offer` });
  for (const [name, want] of wantedScalars(rs)) {
    const h = held.find((x) => x.name === name && x.disk?.persistence === undefined);
    if (!h) {
      if (want <= 0) continue;
      if (!r.take(name, want)) return { ok: false, reason: r.short(`insufficient ${name} on agent ${agentId}`, name, want) };
      const fresh = r.reserve(name, want);
      grow.push(fresh);
      resources.push(fresh);
      continue;
    }
    const got = take(h);
    if (!got) return missing(h);
    const have = got.scalar ?? 0;
    if (want > have + EPSILON) {
      if (!r.take(name, want - have)) {
        return { ok: false, reason: r.short(`insufficient ${name} on agent ${agentId} to grow the reservation`, name, `${round(want - have)} more`) };
      }
      grow.push({ ...got, scalar: round(want - have) });
    } else if (want < have - EPSILON) {
      shrink.push({ ...got, scalar: round(have - want) });
    }
    if (want > 0) resources.push({ ...got, scalar: want });
  }
  const heldPorts = held.filter((x) => x.name === "ports");
  for (const [i, port] of rs.ports.entries()) {
    const h = heldPorts[i];
    const number = h?.ranges?.[0]?.begin;
    if (h && (port.port === 0 || number === port.port)) {
      const got = take(h);
      if (!got) return missing(h);
      resources.push(got);
      continue;
    }
    const got = newPort(r, port);
    if (typeof got === "string") return { ok: false, reason: got };
    grow.push(got);
    resources.push(got);
  }
  for (const h of heldPorts.slice(0, rs.ports.length)) {
    if (resources.some((x) => resourceIdOf(x) === resourceIdOf(h))) continue;
    const got = take(h);
    if (got) shrink.push(got);
  }
  for (const h of heldPorts.slice(rs.ports.length)) {
    const got = take(h);
    if (got) shrink.push(got);
  }
  for (const v of held.filter((x) => x.disk?.persistence !== undefined)) {
    const got = take(v);
    if (!got) return missing(v);
    resources.push(got);
  }
  const ops: Operation[] = [];
  if (shrink.length > 0) ops.push({ type: "UNRESERVE", resources: shrink });
  if (grow.length > 0) ops.push({ type: "RESERVE", resources: grow });
  return { ok: true, resources, ops };
}
