/**
 * A service's task records (what is stored per task instance) and the questions the decision
 * core asks of them: which spec a task instance belongs to, whether it reached its goal on the
 * target config, whether it died and needs recovery, and which reservations its pod holds.
 */
import type { ExecutorInfo, Resource, TaskInfo, TaskStatus } from "../cluster.js";
import { LABEL_RESOURCE_ID, LABEL_TARGET_CONFIG, isTerminal } from "../cluster.js";
import { reservationLabels } from "../offer/pool.js";
import type { PodFootprint } from "../offer/evaluate.js";
import { executorVolumes } from "../offer/executor.js";
import { LABEL_INDEX, LABEL_PERMANENTLY_FAILED, LABEL_RESOURCE_SET, LABEL_TASK_TYPE } from "../offer/task-info.js";
import type { FailedTask } from "../plan/recovery.js";
import { readinessPassed } from "../plan/step.js";
import type { PodSpec, ServiceSpec, TaskSpec } from "../spec/types.js";
import { taskInstanceName } from "../task-id.js";

/** One task instance's record: its latest TaskInfo and the latest status of it. */
export interface StoredTask {
  readonly info: TaskInfo;
  readonly status?: TaskStatus;
  /**
   * An agent has reported on this TaskInfo, so its reservations exist. A TaskInfo is stored
   * before its launch is sent; if the scheduler dies in between, nothing was reserved and the
   * stored resource ids must not pin the pod.
   */
  readonly confirmed: boolean;
}

/**
 * TaskInfo label (the reference's, §2.2, scheduler-side only): the task instance is permanently
 * failed — its pod was replaced by the operator or its agent is gone — so its pod moves: fresh
 * placement and new reservations; the record holds no reservation and pins no agent any more.
 * A new launch writes a TaskInfo without it.
 */
export { LABEL_PERMANENTLY_FAILED };

export function isPermanentlyFailed(stored: StoredTask): boolean {
  return stored.info.labels[LABEL_PERMANENTLY_FAILED] === "true";
}

/**
 * The TaskInfos to store to mark a whole pod instance permanently failed (a pod lives on one
 * agent: all of it moves). Records marked already are left out; empty when nothing changes.
 */
export function permanentlyFailedInfos(tasks: ReadonlyMap<string, StoredTask>, podType: string, podIndex: number): TaskInfo[] {
  return [...podTasks(tasks, podType, podIndex).values()]
    .filter((t) => !isPermanentlyFailed(t))
    .map((t) => ({ ...t.info, labels: { ...t.info.labels, [LABEL_PERMANENTLY_FAILED]: "true" } }));
}

/**
 * The TaskInfos a status marks permanently failed: TASK_GONE_BY_OPERATOR (the operator removed
 * the agent, §1.12) marks the task's whole pod instance; any other status marks nothing.
 */
export function markedByStatus(tasks: ReadonlyMap<string, StoredTask>, slot: TaskSlot | undefined, status: TaskStatus): TaskInfo[] {
  if (status.state !== "TASK_GONE_BY_OPERATOR" || !slot) return [];
  return permanentlyFailedInfos(tasks, slot.pod.type, slot.index);
}

const UNREACHABLE: ReadonlySet<string> = new Set(["TASK_UNREACHABLE", "TASK_LOST"]);

/**
 * The status to store for `next`: a task that stays UNREACHABLE or LOST (a reconciliation
 * answer says so again) keeps the time it became so, which the opt-in timeout counts from.
 */
export function keepUnreachableSince(previous: TaskStatus | undefined, next: TaskStatus): TaskStatus {
  const still = previous?.taskId === next.taskId && UNREACHABLE.has(previous.state) && UNREACHABLE.has(next.state);
  return still && previous.timestampMs < next.timestampMs ? { ...next, timestampMs: previous.timestampMs } : next;
}

/**
 * Pod instances (`hello-0`) whose RUNNING-goal tasks have been UNREACHABLE or LOST since at
 * least `afterMs` ago (the opt-in timeout after which such a pod is given up and moves; never
 * on UNREACHABLE or LOST alone) and that are not marked yet.
 */
export function timedOutPods(
  tasks: ReadonlyMap<string, StoredTask>,
  slots: ReadonlyMap<string, TaskSlot>,
  nowMs: number,
  afterMs: number,
): { podType: string; podIndex: number }[] {
  const out = new Map<string, { podType: string; podIndex: number }>();
  for (const [instance, slot] of slots) {
    const stored = tasks.get(instance);
    const s = stored?.status;
    if (!stored || !s || slot.task.goal !== "RUNNING" || isPermanentlyFailed(stored)) continue;
    if (!UNREACHABLE.has(s.state) || s.taskId !== stored.info.taskId) continue;
    if (nowMs - s.timestampMs >= afterMs) out.set(`${slot.pod.type}-${slot.index}`, { podType: slot.pod.type, podIndex: slot.index });
  }
  return [...out.values()];
}

/** Where a task instance sits in the spec. */
export interface TaskSlot {
  readonly pod: PodSpec;
  readonly index: number;
  readonly task: TaskSpec;
}

/** Every task instance the spec asks for, by instance name (`hello-0-server`). */
export function taskSlots(spec: ServiceSpec): Map<string, TaskSlot> {
  const slots = new Map<string, TaskSlot>();
  for (const pod of spec.pods) {
    for (let index = 0; index < pod.count; index++) {
      for (const task of pod.tasks) slots.set(taskInstanceName(pod.type, index, task.name), { pod, index, task });
    }
  }
  return slots;
}

/** Whether the stored task already is where its goal wants it on the target config. */
export function reachedGoal(stored: StoredTask, task: TaskSpec, configId: string): boolean {
  const status = stored.status;
  if (!status || status.taskId !== stored.info.taskId) return false;
  const sameConfig = onConfig(stored, configId);
  switch (task.goal) {
    case "RUNNING":
      // The TaskInfo says whether it was launched with a readiness check (a paused pod's is not).
      return status.state === "TASK_RUNNING" && sameConfig && readinessPassed(status, stored.info.check !== undefined);
    case "FINISH":
      return status.state === "TASK_FINISHED" && sameConfig;
    case "ONCE":
      return status.state === "TASK_FINISHED";
  }
}

/** Whether the task was launched with (or relabelled to) this config. */
export function onConfig(stored: StoredTask, configId: string): boolean {
  return stored.info.labels[LABEL_TARGET_CONFIG] === configId;
}

/** A RUNNING-goal task that has died and needs relaunching. */
function needsRecovery(stored: StoredTask, task: TaskSpec): boolean {
  const status = stored.status;
  return task.goal === "RUNNING" && status !== undefined && isTerminal(status.state);
}

/** Every task that needs recovery, with its last status, in spec order (pod, index, task). */
export function failedTasks(tasks: ReadonlyMap<string, StoredTask>, slots: ReadonlyMap<string, TaskSlot>): FailedTask[] {
  const out: FailedTask[] = [];
  for (const [instance, slot] of slots) {
    const stored = tasks.get(instance);
    if (!stored?.status || !needsRecovery(stored, slot.task)) continue;
    out.push({ podType: slot.pod.type, podIndex: slot.index, task: slot.task.name, instance, status: stored.status, permanent: isPermanentlyFailed(stored) });
  }
  return out;
}

export function isLive(status: TaskStatus | undefined): boolean {
  return status !== undefined && !isTerminal(status.state);
}

/** Not known dead: live, or launched and never heard of. */
export function mayBeLive(stored: StoredTask): boolean {
  return !stored.status || isLive(stored.status);
}

/** A status only an agent (or its executor) could have sent: the launch reached the agent. */
export function confirmsLaunch(status: TaskStatus): boolean {
  return !isTerminal(status.state) || (status.source !== undefined && status.source !== "SOURCE_MASTER");
}

/** The stored tasks of one pod instance (`hello`, 0), by task instance name. */
export function podTasks(tasks: ReadonlyMap<string, StoredTask>, podType: string, podIndex: number): Map<string, StoredTask> {
  const out = new Map<string, StoredTask>();
  for (const [name, stored] of tasks) {
    const labels = stored.info.labels;
    if (labels[LABEL_TASK_TYPE] === podType && labels[LABEL_INDEX] === String(podIndex)) out.set(name, stored);
  }
  return out;
}

/**
 * Reservations held by the tasks of one pod instance, by resource set, and the pod-level volumes
 * of the executors they ran in; unconfirmed launches and permanently failed records hold none
 * (a replaced pod gets fresh placement).
 */
export function podFootprint(tasks: Iterable<StoredTask>): PodFootprint | undefined {
  const infos = [...tasks].filter((t) => t.confirmed && !isPermanentlyFailed(t)).map((t) => t.info);
  const first = infos[0];
  if (!first) return undefined;
  const resourceSets = new Map<string, TaskInfo["resources"]>();
  const volumes = new Map<string, Resource>();
  for (const info of infos) {
    const set = info.labels[LABEL_RESOURCE_SET];
    if (set !== undefined && info.resources.some((r) => (r.reservations?.length ?? 0) > 0)) {
      resourceSets.set(set, info.resources);
    }
    for (const v of executorVolumes(info.executor)) volumes.set(reservationLabels(v)?.[LABEL_RESOURCE_ID] ?? "", v);
  }
  return { agentId: first.agentId, resourceSets, ...(volumes.size > 0 ? { executorVolumes: [...volumes.values()] } : {}) };
}

/**
 * The executor a task of the pod instance runs in, known live (not being killed), other than the
 * tasks `launching` (instance names): a launch then goes into it (the pod-level volumes are
 * there). Undefined when none runs; permanently failed records are left out (their pod moves).
 */
export function liveExecutorOf(podRecords: ReadonlyMap<string, StoredTask>, launching: ReadonlySet<string>): ExecutorInfo | undefined {
  for (const [name, t] of podRecords) {
    const s = t.status;
    if (launching.has(name) || !t.info.executor || isPermanentlyFailed(t) || !s || s.taskId !== t.info.taskId) continue;
    if (isLive(s) && s.state !== "TASK_KILLING") return t.info.executor;
  }
  return undefined;
}

/** The reserved resources a record holds: its task's and its executor's (the pod-level volumes). */
export function heldReservations(info: TaskInfo): Resource[] {
  return [...info.resources, ...(info.executor?.resources ?? [])].filter((r) => (r.reservations?.length ?? 0) > 0);
}

/**
 * Reserved resources (with a resource id) that no record holds, as its task's or its executor's:
 * this service disowns them (§3.3). A permanently failed record holds none: its pod moves and
 * what it had goes (§3.6).
 */
export function unownedReservations(tasks: Iterable<StoredTask>, resources: readonly Resource[]): Resource[] {
  const owned = new Set<string>();
  for (const t of tasks) {
    if (isPermanentlyFailed(t)) continue;
    for (const r of heldReservations(t.info)) {
      const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
      if (id !== undefined) owned.add(id);
    }
  }
  return resources.filter((r) => {
    const id = reservationLabels(r)?.[LABEL_RESOURCE_ID];
    return id !== undefined && !owned.has(id);
  });
}

/**
 * What a (re)registration asks of the cluster: the tasks to reconcile explicitly (live or never
 * heard of; of `known` only, when given) and the live tasks the spec has no slot for (to kill).
 */
export function registrationWork(
  tasks: ReadonlyMap<string, StoredTask>,
  slots: ReadonlyMap<string, TaskSlot>,
  known: ReadonlySet<string> | undefined,
): { reconcile: TaskInfo[]; kill: TaskInfo[] } {
  const reconcile = [...tasks.values()]
    .filter((t) => (isLive(t.status) || !t.status) && (known === undefined || known.has(t.info.taskId)))
    .map((t) => t.info);
  const kill = [...tasks.entries()].filter(([n, t]) => !slots.has(n) && isLive(t.status)).map(([, t]) => t.info);
  return { reconcile, kill };
}
