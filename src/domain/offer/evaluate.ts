/**
 * Offer evaluation: fits the tasks of one step into one offer. A resource set the pod instance
 * already holds must come back as the same reservations on the same agent (relaunch in place);
 * a new one is reserved from the offer's unreserved resources, labelled with resource_id,
 * framework_id and namespace (§2.2), and its volumes are created. Pure: ids come from `newId`.
 */
import type { ExecutorInfo, Operation, Reservation, Resource, TaskInfo } from "../cluster.js";
import { LABEL_FRAMEWORK_ID, LABEL_NAMESPACE, LABEL_RESOURCE_ID } from "../cluster.js";
import type { PodSpec, ResourceSetSpec, TaskSpec } from "../spec/types.js";
import { makeExecutorId } from "../task-id.js";
import type { OfferPool } from "./pool.js";
import type { LaunchContext } from "./launch-context.js";
import { buildTaskInfo } from "./task-info.js";

export type { LaunchContext } from "./launch-context.js";

/** Reservations a pod instance holds: its agent and, per resource set, the reserved resources. */
export interface PodFootprint {
  readonly agentId: string;
  readonly resourceSets: ReadonlyMap<string, readonly Resource[]>;
}

export interface LaunchRequest {
  readonly pod: PodSpec;
  readonly podIndex: number;
  readonly tasks: readonly TaskSpec[];
  readonly footprint?: PodFootprint;
}

export type Evaluation =
  | {
      readonly kind: "match";
      readonly operations: readonly Operation[];
      readonly tasks: readonly TaskInfo[];
      /** The offer's pool minus what this launch took: pass it to the next evaluation. */
      readonly pool: OfferPool;
    }
  | { readonly kind: "no-match"; readonly reason: string };

type Fit = { ok: true; resources: Resource[]; ops: Operation[] } | { ok: false; reason: string };

function reservation(ctx: LaunchContext): Reservation[] {
  return [
      {
        type: "DYNAMIC",
        role: ctx.role,
        principal: ctx.principal,
        labels: {
          [LABEL_RESOURCE_ID]: ctx.newId(),
          [LABEL_FRAMEWORK_ID]: ctx.frameworkId,
          [LABEL_NAMESPACE]: ctx.service,
        },
      },
    ];
}

function reserve(ctx: LaunchContext, name: string, scalar: number): Resource {
  return { name, type: "SCALAR", scalar, reservations: reservation(ctx) };
}

function fitNew(ctx: LaunchContext, rs: ResourceSetSpec, pool: OfferPool): Fit {
  const wanted: [string, number][] = [["cpus", rs.cpus], ["mem", rs.memoryMb], ["gpus", rs.gpus]];
  const diskMb = rs.volumes.reduce((sum, v) => sum + v.sizeMb, 0);
  for (const [name, amount] of [...wanted, ["disk", diskMb] as [string, number]]) {
    if (amount > 0 && !pool.takeScalar(name, amount)) {
      return { ok: false, reason: `insufficient ${name}: need ${amount}, offered ${pool.available(name)}` };
    }
  }
  const resources = wanted.filter(([, a]) => a > 0).map(([n, a]) => reserve(ctx, n, a));
  for (const port of rs.ports) {
    const chosen = pool.takePort(port.port);
    if (chosen === undefined) return { ok: false, reason: `port ${port.port || "(any)"} for ${port.name} not offered` };
    const ranges = [{ begin: chosen, end: chosen }];
    resources.push({ name: "ports", type: "RANGES", ranges, reservations: reservation(ctx) });
  }
  const disks = rs.volumes.map((v) => reserve(ctx, "disk", v.sizeMb));
  const volumes: Resource[] = disks.map((d, i) => ({
    ...d,
    disk: { persistence: { id: ctx.newId() }, volume: { containerPath: rs.volumes[i]?.path ?? "", mode: "RW" } },
  }));
  const ops: Operation[] = [{ type: "RESERVE", resources: [...resources, ...disks] }];
  if (volumes.length > 0) ops.push({ type: "CREATE", volumes });
  return { ok: true, resources: [...resources, ...volumes], ops };
}

const EPSILON = 1e-6;

/**
 * What each pod's DEFAULT executor runs with: Mesos' minimum (0.01 cpus, 32 MB mem, and some
 * disk, mesos-v1-api.md §11). Unreserved, so a pod's reservations stay what its spec asks for.
 */
export const EXECUTOR_RESOURCES: readonly (Resource & { readonly scalar: number })[] = [
  { name: "cpus", type: "SCALAR", scalar: 0.01 },
  { name: "mem", type: "SCALAR", scalar: 32 },
  { name: "disk", type: "SCALAR", scalar: 8 },
];

function resourceIdOf(r: Resource): string {
  return r.reservations?.at(-1)?.labels[LABEL_RESOURCE_ID] ?? "";
}

/**
 * A resource set the pod instance already holds, fitted to its (maybe changed) spec on the same
 * agent: the same reservations, grown by a RESERVE of the difference under the same labels, or
 * shrunk by an UNRESERVE of the surplus; volumes are kept as they are (a reconfiguration never
 * destroys them). A port whose number changed is released and a new one reserved.
 */
function fitHeld(ctx: LaunchContext, rs: ResourceSetSpec, held: readonly Resource[], pool: OfferPool, agentId: string): Fit {
  const resources: Resource[] = [];
  const grow: Resource[] = [];
  const shrink: Resource[] = [];
  const take = (r: Resource): Resource | undefined => pool.takeReserved(resourceIdOf(r));
  const missing = (r: Resource): Fit => ({ ok: false, reason: `reserved ${r.name} (resource_id ${resourceIdOf(r)}) not in offer` });
  const wanted: [string, number][] = [["cpus", rs.cpus], ["mem", rs.memoryMb], ["gpus", rs.gpus]];
  for (const [name, want] of wanted) {
    const h = held.find((r) => r.name === name && r.disk?.persistence === undefined);
    if (!h) {
      if (want <= 0) continue;
      if (!pool.takeScalar(name, want)) return { ok: false, reason: `insufficient ${name} on agent ${agentId}: need ${want}, offered ${pool.available(name)}` };
      const r = reserve(ctx, name, want);
      grow.push(r);
      resources.push(r);
      continue;
    }
    const got = take(h);
    if (!got) return missing(h);
    const have = got.scalar ?? 0;
    if (want > have + EPSILON) {
      if (!pool.takeScalar(name, want - have)) {
        return { ok: false, reason: `insufficient ${name} on agent ${agentId} to grow the reservation: need ${round(want - have)} more, offered ${pool.available(name)}` };
      }
      grow.push({ ...got, scalar: round(want - have) });
    } else if (want < have - EPSILON) {
      shrink.push({ ...got, scalar: round(have - want) });
    }
    if (want > 0) resources.push({ ...got, scalar: want });
  }
  const heldPorts = held.filter((r) => r.name === "ports");
  for (const [i, port] of rs.ports.entries()) {
    const h = heldPorts[i];
    const number = h?.ranges?.[0]?.begin;
    if (h && (port.port === 0 || number === port.port)) {
      const got = take(h);
      if (!got) return missing(h);
      resources.push(got);
      continue;
    }
    const chosen = pool.takePort(port.port);
    if (chosen === undefined) return { ok: false, reason: `port ${port.port || "(any)"} for ${port.name} not offered` };
    const r: Resource = { name: "ports", type: "RANGES", ranges: [{ begin: chosen, end: chosen }], reservations: reservation(ctx) };
    grow.push(r);
    resources.push(r);
  }
  for (const h of heldPorts.slice(0, rs.ports.length)) {
    if (resources.includes(h) || resources.some((r) => resourceIdOf(r) === resourceIdOf(h))) continue;
    const got = take(h);
    if (got) shrink.push(got);
  }
  for (const h of heldPorts.slice(rs.ports.length)) {
    const got = take(h);
    if (got) shrink.push(got);
  }
  for (const v of held.filter((r) => r.disk?.persistence !== undefined)) {
    const got = take(v);
    if (!got) return missing(v);
    resources.push(got);
  }
  const ops: Operation[] = [];
  if (shrink.length > 0) ops.push({ type: "UNRESERVE", resources: shrink });
  if (grow.length > 0) ops.push({ type: "RESERVE", resources: grow });
  return { ok: true, resources, ops };
}

/** Mesos scalars have three decimals. */
function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** Fits the request into what is left of an offer; `from` is not changed. */
export function evaluateOffer(ctx: LaunchContext, req: LaunchRequest, from: OfferPool): Evaluation {
  const offer = from.offer;
  const fp = req.footprint;
  if (fp && fp.resourceSets.size > 0 && fp.agentId !== offer.agentId) {
    return { kind: "no-match", reason: `pod is placed on agent ${fp.agentId}` };
  }
  const pool = from.clone();
  const operations: Operation[] = [];
  const bySet = new Map<string, Resource[]>();
  for (const task of req.tasks) {
    if (bySet.has(task.resourceSetId)) continue;
    const rs = req.pod.resourceSets.find((s) => s.id === task.resourceSetId);
    if (!rs) return { kind: "no-match", reason: `unknown resource set ${task.resourceSetId}` };
    const held = fp?.resourceSets.get(rs.id);
    const fit = held ? fitHeld(ctx, rs, held, pool, offer.agentId) : fitNew(ctx, rs, pool);
    if (!fit.ok) return { kind: "no-match", reason: fit.reason };
    operations.push(...fit.ops);
    bySet.set(rs.id, fit.resources);
  }
  // Mesos refuses a DEFAULT executor without its own cpus, mem and disk (§11); taken unreserved.
  for (const r of EXECUTOR_RESOURCES) {
    if (!pool.takeScalar(r.name, r.scalar)) {
      return { kind: "no-match", reason: `insufficient ${r.name} for the pod's executor: need ${r.scalar}, offered ${pool.available(r.name)}` };
    }
  }
  const executor: ExecutorInfo = {
    executorId: makeExecutorId(ctx.sanitizedService, req.pod.type, ctx.newId()),
    frameworkId: ctx.frameworkId,
    resources: EXECUTOR_RESOURCES,
    labels: {},
  };
  const tasks = req.tasks.map((t) =>
    buildTaskInfo(ctx, req.pod, req.podIndex, t, offer, bySet.get(t.resourceSetId) ?? []),
  );
  operations.push({ type: "LAUNCH_GROUP", executor, tasks });
  return { kind: "match", operations, tasks, pool };
}
