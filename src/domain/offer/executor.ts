/**
 * The pod's DEFAULT executor for one launch: its own small share of the offer, and the pod-level
 * volumes (`volume`/`volumes` under the pod), which live on the executor so that every task of
 * the pod mounts them from its sandbox (SANDBOX_PATH PARENT, container-info.ts). A volume the pod
 * instance already holds is found again by its resource_id; a new one is reserved and CREATEd.
 */
import type { ExecutorInfo, Operation, Resource } from "../cluster.js";
import type { PodSpec } from "../spec/types.js";
import { makeExecutorId } from "../task-id.js";
import { executorContainer } from "./container-info.js";
import { createVolumes, resourceIdOf } from "./fit-resource-set.js";
import type { LaunchContext } from "./launch-context.js";
import type { Reserver } from "./reserver.js";

/**
 * What each pod's DEFAULT executor runs with: Mesos' minimum (0.01 cpus, 32 MB mem, and some
 * disk, mesos-v1-api.md §11). Unreserved (or, for a pre-reserved pod, left on the role's
 * static reservation), so a pod's reservations stay what its spec asks for.
 */
export const EXECUTOR_RESOURCES: readonly (Resource & { readonly scalar: number })[] = [
  { name: "cpus", type: "SCALAR", scalar: 0.01 },
  { name: "mem", type: "SCALAR", scalar: 32 },
  { name: "disk", type: "SCALAR", scalar: 8 },
];

export type ExecutorFit = { ok: true; executor: ExecutorInfo; ops: Operation[] } | { ok: false; reason: string };

/** The pod-level volumes among an executor's resources (persistent, reserved). */
export function executorVolumes(executor: ExecutorInfo | undefined): Resource[] {
  return (executor?.resources ?? []).filter((r) => r.disk?.persistence !== undefined && (r.reservations?.length ?? 0) > 0);
}

/** A new executor for the pod; `held`: the pod-level volumes the pod instance holds already. */
export function fitExecutor(ctx: LaunchContext, r: Reserver, pod: PodSpec, held: readonly Resource[]): ExecutorFit {
  const own: Resource[] = [];
  for (const e of EXECUTOR_RESOURCES) {
    if (!r.take(e.name, e.scalar)) return { ok: false, reason: r.short(`insufficient ${e.name} for the pod's executor`, e.name, e.scalar) };
    own.push(r.plain(e.name, e.scalar));
  }
  const kept: Resource[] = [];
  const wanted: NonNullable<PodSpec["volumes"]>[number][] = [];
  for (const v of pod.volumes ?? []) {
    const h = held.find((x) => x.disk?.volume?.containerPath === v.path);
    if (!h) {
      wanted.push(v);
      continue;
    }
    const got = r.pool.takeReserved(resourceIdOf(h));
    if (!got) return { ok: false, reason: `reserved disk of the pod's volume ${v.path} (resource_id ${resourceIdOf(h)}) not in offer` };
    kept.push(got);
  }
  const ops: Operation[] = [];
  const size = wanted.reduce((sum, v) => sum + v.sizeMb, 0);
  if (!r.take("disk", size)) return { ok: false, reason: r.short("insufficient disk for the pod's volumes", "disk", size) };
  if (wanted.length > 0) {
    const created = createVolumes(r, wanted);
    ops.push({ type: "RESERVE", resources: created.disks }, { type: "CREATE", volumes: created.volumes });
    kept.push(...created.volumes);
  }
  const container = executorContainer(pod);
  const executor: ExecutorInfo = {
    executorId: makeExecutorId(ctx.sanitizedService, pod.type, ctx.newId()),
    frameworkId: ctx.frameworkId,
    resources: [...own, ...kept],
    labels: {},
    ...(container ? { container } : {}),
  };
  return { ok: true, executor, ops };
}
