/**
 * Pod control of a running service (dcos-commons §1.10, §3.6): restart (kill, relaunch in
 * place), replace (permanent recovery), pause and resume (relaunch with an idle command). Each
 * action clears the pod instance's crash-loop back-off and kills its tasks; the recovery plan
 * (or the plan working on the pod) relaunches them — in place, or, for a replaced pod, with
 * fresh placement and new reservations while its old ones are released when next offered.
 */
import type { Resource, TaskInfo } from "../domain/cluster.js";
import { LABEL_RESOURCE_ID } from "../domain/cluster.js";
import { SchedulerError } from "../domain/errors.js";
import { LABEL_OFFER_HOSTNAME } from "../domain/offer/agent-place.js";
import { LABEL_INDEX, LABEL_TASK_TYPE } from "../domain/offer/task-info.js";
import { reservationLabels } from "../domain/offer/pool.js";
import { forgetFailures } from "../domain/plan/backoff.js";
import { clonePlans, allPlans } from "../domain/service/plans.js";
import type { StoredTask } from "../domain/service/task-record.js";
import { isPermanentlyFailed, mayBeLive, permanentlyFailedInfos, podTasks, timedOutPods } from "../domain/service/task-record.js";
import { decodeJson } from "./store/codec.js";
import type { PodAction, ReservationView } from "./admin-api.js";
import type { KillDecision, PodControlOutcome, PodState, PreparedControl } from "./managed-service.js";
import type { PersisterOp } from "./ports.js";
import type { ServiceInternals } from "./service-internals.js";

interface PodInstance {
  readonly podType: string;
  readonly podIndex: number;
  /** `hello-0`. */
  readonly key: string;
}

/** `world-0` → a pod instance the spec has; INVALID_ARGUMENT or NOT_FOUND naming field `pod`. */
function podInstance(svc: ServiceInternals, pod: string): PodInstance {
  const m = /^(.+)-(0|[1-9][0-9]{0,8})$/.exec(pod);
  if (!m) throw SchedulerError.invalid([{ field: "pod", reason: `'${pod.slice(0, 64)}' is not a pod instance such as hello-0` }]);
  const podType = m[1]!;
  const podIndex = Number(m[2]);
  const spec = svc.built.spec.pods.find((p) => p.type === podType);
  if (!spec || podIndex >= spec.count) {
    const why = spec ? `pod ${podType} has ${spec.count} instance(s)` : `service ${svc.name} has no pod ${podType}`;
    throw new SchedulerError("not_found", `pod: ${pod} not found: ${why}`, { violations: [{ field: "pod", reason: why }] });
  }
  return { podType, podIndex, key: pod };
}

const REASONS: Readonly<Record<PodAction, string>> = {
  RESTART: "pod restart",
  REPLACE: "pod replace",
  PAUSE: "pod pause",
  RESUME: "pod resume",
};

/** Checks the action against the service; stores and applies nothing until asked. */
export function preparePodControl(svc: ServiceInternals, pod: string, action: PodAction): PreparedControl<PodControlOutcome> {
  const p = podInstance(svc, pod);
  const pausing = action === "PAUSE" || action === "RESUME";
  if (pausing && svc.paused.has(p.key) === (action === "PAUSE")) {
    return { ops: [], kills: [], apply: () => ({ changed: false, killed: [] }) };
  }
  const records = [...podTasks(svc.tasks, p.podType, p.podIndex).values()];
  const kills: KillDecision[] = records
    .filter((t) => mayBeLive(t))
    .map((t) => ({ taskId: t.info.taskId, agentId: t.info.agentId, reason: REASONS[action] }));
  const marks = action === "REPLACE" ? permanentlyFailedInfos(svc.tasks, p.podType, p.podIndex) : [];
  const paused = new Set(svc.paused);
  if (action === "PAUSE") paused.add(p.key);
  if (action === "RESUME") paused.delete(p.key);
  const ops: PersisterOp[] = [
    ...marks.flatMap((info) => svc.store.taskInfoOps(info)),
    ...(pausing ? svc.store.pausedPodsOps(paused) : []),
  ];
  return {
    ops,
    kills,
    apply: () => {
      withInfos(svc.tasks, marks);
      if (pausing) svc.paused = paused;
      const released = releaseBackoff(svc, p);
      svc.touch();
      svc.log.info({ pod: p.key, action, killed: kills.map((k) => k.taskId) }, `${REASONS[action]} ${p.key}`);
      return { changed: pausing || released || kills.length > 0 || marks.length > 0, killed: kills.map((k) => k.taskId) };
    },
  };
}

/**
 * The operator acted: the pod instance starts counting failures again, and a step of it held
 * back goes now. Returns whether a step was held back.
 */
function releaseBackoff(svc: ServiceInternals, p: PodInstance): boolean {
  const held = allPlans(svc.plans).flatMap((plan) =>
    plan.phases.flatMap((ph) => ph.steps.filter((s) => s.podType === p.podType && s.podIndex === p.podIndex && s.status === "DELAYED")),
  );
  let backoff = forgetFailures(svc.backoff, p.key);
  if (held.length > 0) {
    const ids = new Set(held.map((s) => s.id));
    const plans = clonePlans(svc.plans, ids);
    const until = new Map(backoff.heldUntilMs);
    for (const s of allPlans(plans).flatMap((plan) => plan.phases.flatMap((ph) => ph.steps))) {
      if (!ids.has(s.id)) continue;
      s.status = "PENDING";
      until.delete(s.id);
    }
    svc.plans = plans;
    backoff = { ...backoff, heldUntilMs: until };
  }
  svc.backoff = backoff;
  return held.length > 0;
}

/**
 * The opt-in timeout (`replaceUnreachableAfterMs` > 0): pods whose RUNNING-goal tasks have been
 * UNREACHABLE or LOST that long are marked permanently failed (stored first) and so move, as
 * if their agent had been removed. Returns whether any was.
 */
export async function giveUpUnreachable(svc: ServiceInternals, afterMs: number): Promise<boolean> {
  if (afterMs <= 0) return false;
  const pods = timedOutPods(svc.tasks, svc.slots, svc.now(), afterMs);
  if (pods.length === 0) return false;
  const infos = pods.flatMap((p) => permanentlyFailedInfos(svc.tasks, p.podType, p.podIndex));
  await svc.store.storeTaskInfos(infos);
  withInfos(svc.tasks, infos);
  for (const p of pods) svc.log.warn({ pod: `${p.podType}-${p.podIndex}`, afterMs }, `replacing pod ${p.podType}-${p.podIndex}: unreachable for ${Math.round(afterMs / 1000)} s`);
  svc.touch();
  return true;
}

/** Puts rewritten TaskInfos (marked permanently failed) into the records, keeping status and confirmation. */
export function withInfos(tasks: Map<string, StoredTask>, infos: readonly TaskInfo[]): void {
  for (const info of infos) {
    const t = tasks.get(info.name);
    if (t && t.info.taskId === info.taskId) tasks.set(info.name, { ...t, info });
  }
}

/** The pod instances of the service (the spec's, and those stored tasks still hold). */
export function podStates(svc: ServiceInternals): PodState[] {
  const keys = new Map<string, { podType: string; podIndex: number }>();
  for (const pod of svc.built.spec.pods) for (let i = 0; i < pod.count; i++) keys.set(`${pod.type}-${i}`, { podType: pod.type, podIndex: i });
  for (const t of svc.tasks.values()) {
    const podType = t.info.labels[LABEL_TASK_TYPE];
    const index = t.info.labels[LABEL_INDEX];
    if (podType !== undefined && index !== undefined) keys.set(`${podType}-${index}`, { podType, podIndex: Number(index) });
  }
  const out = [...keys.entries()].map(([key, { podType, podIndex }]) => podState(svc, key, podType, podIndex));
  return out.sort((a, b) => (a.podType === b.podType ? a.podIndex - b.podIndex : a.podType < b.podType ? -1 : 1));
}

function podState(svc: ServiceInternals, key: string, podType: string, podIndex: number): PodState {
  const records = [...podTasks(svc.tasks, podType, podIndex).entries()];
  // A marked RUNNING-goal task has not been relaunched yet: the pod is still being replaced.
  const permanentlyFailed = records.some(([name, t]) => isPermanentlyFailed(t) && svc.slots.get(name)?.task.goal !== "FINISH" && svc.slots.get(name)?.task.goal !== "ONCE");
  const holding = records.map(([, t]) => t).filter((t) => t.confirmed && !isPermanentlyFailed(t));
  // Where it runs: its reservations' agent, else (being replaced) where its old tasks still run.
  const placed = holding[0] ?? records.map(([, t]) => t).find((t) => !isPermanentlyFailed(t) || mayBeLive(t));
  return {
    podType,
    podIndex,
    paused: svc.paused.has(key),
    permanentlyFailed,
    reservations: reservationViews(holding.flatMap((t) => t.info.resources)),
    agentId: placed?.info.agentId ?? "",
    hostname: placed?.info.labels[LABEL_OFFER_HOSTNAME] ?? "",
  };
}

/** One view per reservation (resource id), in the order the records list them. */
function reservationViews(resources: readonly Resource[]): ReservationView[] {
  const seen = new Map<string, ReservationView>();
  for (const r of resources) {
    const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
    if (id === undefined || seen.has(id)) continue;
    seen.set(id, {
      resourceId: id,
      resource: r.name,
      value: r.type === "RANGES" ? (r.ranges ?? []).map((x) => (x.begin === x.end ? `${x.begin}` : `${x.begin}-${x.end}`)).join(",") : String(r.scalar ?? 0),
      persistenceId: r.disk?.persistence?.id ?? "",
      containerPath: r.disk?.volume?.containerPath ?? "",
    });
  }
  return [...seen.values()];
}

/** After load (recovery) or build: the stored paused pods applied again. */
export function restorePausedPods(svc: ServiceInternals, stored: Uint8Array | undefined): void {
  if (!stored) return;
  const pods = decodeJson<unknown>(stored);
  svc.paused = new Set(Array.isArray(pods) ? pods.filter((p): p is string => typeof p === "string") : []);
}
