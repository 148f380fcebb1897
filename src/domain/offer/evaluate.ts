/**
 * Offer evaluation: fits the tasks of one step into one offer. A resource set the pod instance
 * already holds must come back as the same reservations on the same agent (relaunch in place);
 * a new one is reserved from the offer (fit-resource-set.ts), refined on a pre-reserved role's
 * static resources for a pod with `pre-reserved-role` (reserver.ts). The pod's executor holds
 * the pod-level volumes (executor.ts); a relaunch while another task of the pod instance runs
 * goes into that task's live executor and takes nothing for it. The essential tasks launch as
 * one task group, each non-essential task as a group of its own in the same executor, so its
 * exit does not take the others down (§11). Pure: ids come from `newId`.
 */
import type { ExecutorInfo, Operation, Resource, TaskInfo } from "../cluster.js";
import type { PodSpec, TaskSpec } from "../spec/types.js";
import type { ExecutorFit } from "./executor.js";
import { fitExecutor } from "./executor.js";
import { fitHeld, fitNew } from "./fit-resource-set.js";
import type { LaunchContext } from "./launch-context.js";
import type { OfferPool } from "./pool.js";
import { Reserver } from "./reserver.js";
import { buildTaskInfo } from "./task-info.js";

export type { LaunchContext } from "./launch-context.js";
export { EXECUTOR_RESOURCES, executorVolumes } from "./executor.js";

/** Reservations a pod instance holds: its agent and, per resource set, the reserved resources. */
export interface PodFootprint {
  readonly agentId: string;
  readonly resourceSets: ReadonlyMap<string, readonly Resource[]>;
  /** The pod-level volumes its executor held (persistent, reserved), by resource_id once each. */
  readonly executorVolumes?: readonly Resource[];
}

export interface LaunchRequest {
  readonly pod: PodSpec;
  readonly podIndex: number;
  readonly tasks: readonly TaskSpec[];
  readonly footprint?: PodFootprint;
  /**
   * The executor a task of this pod instance still runs in (its stored TaskInfo.executor): the
   * launch goes into it, identical, and takes none of its resources from the offer.
   */
  readonly liveExecutor?: ExecutorInfo;
}

export type Evaluation =
  | {
      readonly kind: "match";
      readonly operations: readonly Operation[];
      /** Each with the `executor` it is launched in (stored; not sent inside the LAUNCH_GROUP). */
      readonly tasks: readonly TaskInfo[];
      /** The offer's pool minus what this launch took: pass it to the next evaluation. */
      readonly pool: OfferPool;
    }
  | { readonly kind: "no-match"; readonly reason: string };

/** Whether the footprint pins the pod instance to its agent. */
export function holdsReservations(fp: PodFootprint | undefined): fp is PodFootprint {
  return fp !== undefined && (fp.resourceSets.size > 0 || (fp.executorVolumes?.length ?? 0) > 0);
}

/** The essential tasks together (if any), then each non-essential task alone. */
function taskGroups(tasks: readonly TaskInfo[], specs: readonly TaskSpec[]): TaskInfo[][] {
  const essential = tasks.filter((_, i) => specs[i]?.essential !== false);
  const alone = tasks.filter((_, i) => specs[i]?.essential === false).map((t) => [t]);
  return essential.length > 0 ? [essential, ...alone] : alone;
}

function withoutExecutor(t: TaskInfo): TaskInfo {
  if (t.executor === undefined) return t;
  const { executor: _executor, ...rest } = t;
  return rest;
}

/**
 * Whether the tasks' records keep their executor: only a pod with pod-level volumes (its
 * footprint) or a non-essential task (a relaunch into the live executor) ever asks for it again.
 * Other pods relaunch whole, in a new executor, so their records stay small.
 */
function recordsExecutor(pod: LaunchRequest["pod"]): boolean {
  return (pod.volumes?.length ?? 0) > 0 || pod.tasks.some((t) => t.essential === false);
}

/** Fits the request into what is left of an offer; `from` is not changed. */
export function evaluateOffer(ctx: LaunchContext, req: LaunchRequest, from: OfferPool): Evaluation {
  const offer = from.offer;
  const fp = req.footprint;
  if (holdsReservations(fp) && fp.agentId !== offer.agentId) {
    return { kind: "no-match", reason: `pod is placed on agent ${fp.agentId}` };
  }
  const pool = from.clone();
  const fixed = new Set(req.pod.resourceSets.flatMap((rs) => rs.ports.map((p) => p.port).filter((n) => n !== 0)));
  const r = new Reserver(ctx, pool, req.pod.preReservedRole, fixed);
  const operations: Operation[] = [];
  const bySet = new Map<string, Resource[]>();
  for (const task of req.tasks) {
    if (bySet.has(task.resourceSetId)) continue;
    const rs = req.pod.resourceSets.find((s) => s.id === task.resourceSetId);
    if (!rs) return { kind: "no-match", reason: `unknown resource set ${task.resourceSetId}` };
    const held = fp?.resourceSets.get(rs.id);
    const fit = held ? fitHeld(r, rs, held) : fitNew(r, rs);
    if (!fit.ok) return { kind: "no-match", reason: fit.reason };
    operations.push(...fit.ops);
    bySet.set(rs.id, fit.resources);
  }
  // Mesos refuses a DEFAULT executor without its own cpus, mem and disk (§11).
  const exec: ExecutorFit = req.liveExecutor
    ? { ok: true, executor: req.liveExecutor, ops: [] }
    : fitExecutor(ctx, r, req.pod, fp?.executorVolumes ?? []);
  if (!exec.ok) return { kind: "no-match", reason: exec.reason };
  operations.push(...exec.ops);
  const executor = exec.executor;
  const recorded = recordsExecutor(req.pod) ? executor : undefined;
  const tasks = req.tasks.map((t) => buildTaskInfo(ctx, req.pod, req.podIndex, t, offer, bySet.get(t.resourceSetId) ?? [], recorded));
  for (const group of taskGroups(tasks, req.tasks)) {
    operations.push({ type: "LAUNCH_GROUP", executor, tasks: group.map(withoutExecutor) });
  }
  return { kind: "match", operations, tasks, pool };
}
