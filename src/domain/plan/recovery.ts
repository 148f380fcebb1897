/**
 * The recovery plan's shape, decided from the task states (reference DefaultRecoveryPlanManager,
 * dcos-commons §1.12, §3.6). Unlike the reference, which adds a phase
 * per recovery, the plan stays readable however often tasks fail:
 *
 *   recovery (parallel)
 *     phase `hello` (one per pod type, parallel)
 *       step `hello-0:[server]`  (one per pod instance, reused by every later recovery of it)
 *
 * A pod instance with dead RUNNING-goal tasks that no other plan works on gets its step back
 * to PENDING (or DELAYED, as the crash-loop back-off says), relaunching the dead tasks on the
 * pod's existing reservations. Which tasks (§4.2 `essential`): a dead non-essential task alone
 * is relaunched alone, its siblings keep running; a dead essential task relaunches the whole
 * pod instance — every RUNNING-goal task of it, the live ones killed first (`kills`); the step's message says which attempt it is and why
 * (`attempt 3 (transient): task hello-0-server failed: command exited with status 1; relaunching in 2 s`).
 * A pod instance whose failed tasks are permanently failed (pod replace, agent gone) is
 * recovered permanently: at once, with fresh placement and new reservations (its records hold
 * none); a transient recovery that escalates is planned again. FINISH/ONCE tasks are retried
 * by their deploy step, never here.
 *
 * `planRecovery` only decides; `applyRecoveryDecision` shapes the plan; the engine holds the
 * back-off and logs.
 */
import type { TaskStatus } from "../cluster.js";
import { stepName } from "../task-id.js";
import { relaunchDelayMs } from "./backoff.js";
import type { NewId } from "./build.js";
import type { Phase, Plan, Step } from "./model.js";
import { newStep } from "./model.js";
import { setStepMessage } from "./step.js";
import { describeTaskEnd } from "./task-end.js";

/** A RUNNING-goal task whose latest status is terminal. */
export interface FailedTask {
  readonly podType: string;
  readonly podIndex: number;
  /** Task spec name, `server`. */
  readonly task: string;
  /** Task instance name, `hello-0-server`. */
  readonly instance: string;
  /** Its latest status (terminal). */
  readonly status: TaskStatus;
  /** Marked permanently failed (`permanently-failed` TaskInfo label): its pod moves. */
  readonly permanent: boolean;
}

/** A RUNNING-goal task of a pod instance with a failure, and whether it may still run. */
export interface PodMember {
  readonly podType: string;
  readonly podIndex: number;
  /** Task spec name. */
  readonly task: string;
  /** Task instance name, `hello-0-sidecar`. */
  readonly instance: string;
  /** The spec's `essential` (default true): its end relaunches the whole pod instance. */
  readonly essential: boolean;
  /** The task ID of its record when that may still run (live, or launched and never heard of). */
  readonly liveTaskId?: string;
}

/** A live task a whole-pod recovery kills before it relaunches the pod. */
export interface RecoveryKill {
  readonly instance: string;
  readonly taskId: string;
}

export interface RecoveryInput {
  /** Every plan but recovery: a pod instance one of them works on is left to it. */
  readonly plans: readonly Plan[];
  readonly recovery: Plan;
  /** The failed tasks, in spec order (pod, index, task). */
  readonly failed: readonly FailedTask[];
  /** Failures in a row of a pod instance (`hello-0`), as the crash-loop back-off counts them. */
  readonly failuresInARow: (podInstance: string) => number;
  /**
   * The RUNNING-goal tasks of the pod instances in `failed`, in spec order. Absent: every task is
   * taken as essential and only the failed ones are relaunched.
   */
  readonly members?: readonly PodMember[];
}

/** Relaunch the failed tasks of one pod instance. */
export interface RecoveryDecision {
  readonly podType: string;
  readonly podIndex: number;
  /** Task spec names to relaunch, in spec order. */
  readonly tasks: readonly string[];
  /** Live tasks of the pod to kill first: an essential task ended, the pod relaunches whole. */
  readonly kills: readonly RecoveryKill[];
  /** `hello-0:[server]`. */
  readonly stepName: string;
  /** Recoveries of this pod instance since the scheduler started, 1-based. */
  readonly attempt: number;
  /** The crash-loop back-off's wait before the relaunch; 0 = at once. */
  readonly delayMs: number;
  /** The failure given as the reason: the earliest new one of the pod instance. */
  readonly cause: FailedTask;
  /** `describeTaskEnd` of the cause. */
  readonly why: string;
  /** Task IDs whose terminal status this recovery answers. */
  readonly handled: ReadonlySet<string>;
  /** Permanent: fresh placement and new reservations, no back-off. Transient: in place. */
  readonly permanent: boolean;
}

export interface RecoveryPlanning {
  readonly decisions: readonly RecoveryDecision[];
  /** A dead task waits because its pod instance is still being worked on: look again later. */
  readonly deferred: boolean;
}

/** `hello-0`: the key of a pod instance. */
export function podInstanceKey(podType: string, podIndex: number): string {
  return `${podType}-${podIndex}`;
}

/**
 * Pod instances another plan is working on. A step that waits in an interrupted plan (custom
 * plans start interrupted and are never offered) works on nothing, so it holds no pod back.
 */
function busyPodInstances(plans: readonly Plan[]): Set<string> {
  const busy = new Set<string>();
  for (const plan of plans) {
    for (const phase of plan.phases) {
      for (const s of phase.steps) {
        if (s.status === "COMPLETE") continue;
        const waiting = s.status === "PENDING" || s.status === "PREPARED" || s.status === "DELAYED";
        if (waiting && (plan.interrupted || phase.interrupted === true || s.interrupted)) continue;
        busy.add(podInstanceKey(s.podType, s.podIndex));
      }
    }
  }
  return busy;
}

/** The recovery step of a pod instance, if it was ever recovered. */
export function recoveryStep(recovery: Plan, podType: string, podIndex: number): Step | undefined {
  return recovery.phases.find((p) => p.name === podType)?.steps.find((s) => s.podIndex === podIndex);
}

function byPodInstance(failed: readonly FailedTask[]): Map<string, FailedTask[]> {
  const out = new Map<string, FailedTask[]>();
  for (const f of failed) {
    const key = podInstanceKey(f.podType, f.podIndex);
    out.set(key, [...(out.get(key) ?? []), f]);
  }
  return out;
}

function earliest(failed: readonly FailedTask[]): FailedTask {
  return failed.reduce((a, b) => (b.status.timestampMs < a.status.timestampMs ? b : a));
}

/** What recovery does now: one decision per pod instance with a failure not yet answered. */
export function planRecovery(input: RecoveryInput): RecoveryPlanning {
  const busy = busyPodInstances(input.plans);
  const decisions: RecoveryDecision[] = [];
  let deferred = false;
  for (const [pod, failed] of byPodInstance(input.failed)) {
    const { podType, podIndex } = failed[0]!;
    const step = recoveryStep(input.recovery, podType, podIndex);
    const note = step?.recovery;
    // A pod with a permanently failed task moves whole (a mixed pod is not left unrecovered, as
    // the reference leaves it: its live reservations would pin it to a gone agent).
    const permanent = failed.some((f) => f.permanent);
    const escalated = permanent && note?.permanent !== true;
    const fresh = failed.filter((f) => escalated || !note?.handled.has(f.status.taskId));
    if (fresh.length === 0) continue; // answered already: the step is relaunching or waiting
    // Another plan, or this step's launch of other tasks, is under way: recover after it.
    const launching = step?.status === "STARTING" || step?.status === "STARTED";
    if (busy.has(pod) || (launching && !fresh.some((f) => step.taskIds.get(f.task) === f.status.taskId))) {
      deferred = true;
      continue;
    }
    // Another failure of a launch already answered (a task of the same group) is the same attempt.
    const launchedSince = step !== undefined && step.tasks.some((t) => step.taskIds.has(t));
    const attempt = (note?.attempt ?? 0) + (note === undefined || launchedSince || escalated ? 1 : 0);
    const cause = earliest(permanent ? fresh.filter((f) => f.permanent) : fresh);
    const { tasks, kills } = relaunched(failed, input.members, permanent);
    decisions.push({
      podType,
      podIndex,
      tasks,
      kills,
      stepName: stepName(podType, podIndex, tasks),
      attempt,
      // The operator asked for it, or the agent is gone: no crash loop to wait out.
      delayMs: permanent ? 0 : relaunchDelayMs(input.failuresInARow(pod)),
      cause,
      why: describeTaskEnd(cause.instance, cause.status),
      // The kills' ends are this recovery's doing, no new failure.
      handled: new Set([...failed.map((f) => f.status.taskId), ...kills.map((k) => k.taskId)]),
      permanent,
    });
  }
  return { decisions, deferred };
}

/**
 * What a recovery of one pod instance relaunches: its failed tasks when all of them are
 * non-essential (the others run on, untouched); else — an essential task ended, or the pod
 * moves — the whole pod instance, its live tasks killed first.
 */
function relaunched(
  failed: readonly FailedTask[],
  allMembers: readonly PodMember[] | undefined,
  permanent: boolean,
): { tasks: string[]; kills: RecoveryKill[] } {
  const { podType, podIndex } = failed[0]!;
  const members = (allMembers ?? []).filter((m) => m.podType === podType && m.podIndex === podIndex);
  const essential = (f: FailedTask): boolean => members.find((m) => m.task === f.task)?.essential !== false;
  if (members.length === 0 || !(permanent || failed.some(essential))) return { tasks: failed.map((f) => f.task), kills: [] };
  const dead = new Set(failed.map((f) => f.task));
  const tasks = [...members.map((m) => m.task), ...failed.map((f) => f.task).filter((t) => !members.some((m) => m.task === t))];
  const kills = members
    .filter((m) => m.liveTaskId !== undefined && !dead.has(m.task))
    .map((m) => ({ instance: m.instance, taskId: m.liveTaskId! }));
  return { tasks, kills };
}

/** `4 s`: back-off waits are whole seconds. */
export function formatDelay(ms: number): string {
  return `${Math.ceil(ms / 1000)} s`;
}

/** The recovery phase of a pod type, added (parallel: instances recover independently) when new. */
function podPhase(recovery: Plan, podType: string, newId: NewId): Phase {
  const found = recovery.phases.find((p) => p.name === podType);
  if (found) return found;
  const phase: Phase = { id: newId(), name: podType, strategy: "parallel", steps: [] };
  recovery.phases.push(phase);
  return phase;
}

function sameTasks(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

export interface AppliedRecovery {
  /** The pod instance's step, now PENDING or DELAYED. */
  readonly step: Step;
  /** The step object it took the place of (same id) when the set of dead tasks changed. */
  readonly replaced?: Step;
}

/**
 * Puts a decision into the recovery plan: the pod instance's step is reused (or, when other
 * tasks died this time, replaced by one of the same id and place naming them), its relaunched
 * tasks forget their dead task IDs (a late status of those cannot move the step), and it goes
 * PENDING, or DELAYED for `delayMs`.
 */
export function applyRecoveryDecision(recovery: Plan, d: RecoveryDecision, newId: NewId): AppliedRecovery {
  const phase = podPhase(recovery, d.podType, newId);
  const i = phase.steps.findIndex((s) => s.podIndex === d.podIndex);
  const old = i < 0 ? undefined : phase.steps[i];
  const reuse = old !== undefined && sameTasks(old.tasks, d.tasks);
  const step = reuse ? old : newStep(old?.id ?? newId(), d.stepName, d.podType, d.podIndex, d.tasks);
  if (!reuse) {
    if (old) phase.steps[i] = step;
    else {
      const at = phase.steps.findIndex((s) => s.podIndex > d.podIndex);
      phase.steps.splice(at < 0 ? phase.steps.length : at, 0, step);
    }
  }
  for (const t of d.tasks) {
    step.taskIds.delete(t);
    step.progress.set(t, "PENDING");
  }
  step.recovery = {
    attempt: d.attempt,
    why: d.why,
    handled: d.handled,
    ...(d.permanent ? { permanent: true } : {}),
    ...(d.kills.length > 0 ? { kills: d.kills } : {}),
  };
  step.status = d.delayMs > 0 ? "DELAYED" : "PENDING";
  setStepMessage(step, d.delayMs > 0 ? `relaunching in ${formatDelay(d.delayMs)}` : "relaunching");
  return old && !reuse ? { step, replaced: old } : { step };
}

/** `recovering hello-0:[server]: attempt 3 (transient): task hello-0-server failed: command exited with status 1; relaunching in 2 s` */
export function recoveryLogLine(d: RecoveryDecision): string {
  const when = d.delayMs > 0 ? `relaunching in ${formatDelay(d.delayMs)}` : "relaunching now";
  const kills = d.kills.length > 0 ? `; killing ${d.kills.map((k) => k.instance).join(", ")} first` : "";
  return `recovering ${d.stepName}: attempt ${d.attempt} (${d.permanent ? "permanent" : "transient"}): ${d.why}${kills}; ${when}`;
}

/** The same for machines: the cause's last status as the cluster sent it, attempt and delay. */
export function recoveryLogFields(d: RecoveryDecision): Record<string, unknown> {
  const { status } = d.cause;
  return {
    step: d.stepName,
    task: d.cause.instance,
    taskId: status.taskId,
    state: status.state,
    ...(status.reason !== undefined ? { reason: status.reason } : {}),
    ...(status.message !== undefined ? { statusMessage: status.message } : {}),
    ...(status.healthy !== undefined ? { healthy: status.healthy } : {}),
    ...(d.tasks.length > 1 ? { tasks: d.tasks } : {}),
    ...(d.kills.length > 0 ? { killing: d.kills.map((k) => k.taskId) } : {}),
    attempt: d.attempt,
    delayMs: d.delayMs,
    permanent: d.permanent,
  };
}
