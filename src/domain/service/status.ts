/**
 * Folding a task's status into its service's plans (§1.12 DeploymentStep transitions): every
 * step of the task's pod instance that launched it moves; a deploy step whose task ended before
 * it completed (a launch that failed, a FINISH/ONCE task that failed) waits out the crash-loop
 * back-off, unless its agent is gone (TASK_GONE_BY_OPERATOR clears the pod's back-off); a
 * decommissioned task's kill step completes once it is dead. A transition on the plans given
 * (like `plan/step.ts`); returns the new back-off.
 */
import type { TaskStatus } from "../cluster.js";
import { isTerminal } from "../cluster.js";
import type { BackoffState } from "../plan/backoff.js";
import { failuresOf, forgetFailures, holdStep, observeStatus, relaunchDelayMs } from "../plan/backoff.js";
import type { Step } from "../plan/model.js";
import { applyTaskStatus, setStepMessage } from "../plan/step.js";
import type { ServicePlans } from "./plans.js";
import { allPlans, decommissionStepName } from "./plans.js";
import type { TaskSlot } from "./task-record.js";

export interface StatusFold {
  readonly backoff: BackoffState;
  /** The task belongs to no slot of the spec (decommissioned, or unknown). */
  readonly slotless: boolean;
}

/** A step that is about to relaunch a pod that keeps failing waits, DELAYED. */
function hold(step: Step, failures: number, backoff: BackoffState, nowMs: number): BackoffState {
  if (step.status !== "PENDING" && step.status !== "PREPARED") return backoff;
  const ms = relaunchDelayMs(failures);
  if (ms <= 0) return backoff;
  step.status = "DELAYED";
  setStepMessage(step, `relaunching in ${Math.ceil(ms / 1000)} s: failed ${failures} times in a row`);
  return holdStep(backoff, step.id, nowMs + ms);
}

export function foldStatus(
  plans: ServicePlans,
  backoff: BackoffState,
  instance: string,
  slot: TaskSlot | undefined,
  status: TaskStatus,
  nowMs: number,
  /** Whether the task was launched with a readiness check (a paused pod's tasks are not). @default the spec's */
  hasReadinessCheck = slot?.task.readinessCheck !== undefined,
): StatusFold {
  const terminal = isTerminal(status.state);
  if (!slot) {
    if (terminal && plans.decommission) {
      const name = decommissionStepName.kill(instance);
      for (const s of plans.decommission.phases.flatMap((ph) => ph.steps)) {
        if (s.name === name && s.status !== "COMPLETE") {
          s.status = "COMPLETE";
          s.message = "";
        }
      }
    }
    return { backoff, slotless: true };
  }
  const pod = `${slot.pod.type}-${slot.index}`;
  // The agent is gone (§1.12): no crash loop, the pod moves at once.
  const gone = status.state === "TASK_GONE_BY_OPERATOR";
  let next = gone ? forgetFailures(backoff, pod) : observeStatus(backoff, pod, status, slot.task.goal === "RUNNING", terminal, nowMs);
  for (const plan of allPlans(plans)) {
    for (const phase of plan.phases) {
      for (const step of phase.steps) {
        if (step.podType !== slot.pod.type || step.podIndex !== slot.index) continue;
        if (!step.tasks.includes(slot.task.name)) continue;
        const changed = applyTaskStatus(step, slot.task.name, status, slot.task.goal, hasReadinessCheck);
        // A deploy step that retries a failed FINISH/ONCE task backs off like recovery does;
        // a recovery step's next attempt (and its back-off) is decided by recovery planning.
        if (changed && terminal && !gone && plan !== plans.recovery) next = hold(step, failuresOf(next, pod), next, nowMs);
      }
    }
  }
  return { backoff: next, slotless: false };
}

/**
 * A decommissioned task whose end completes its pod's kills when the pod holds no reservation
 * left to release: its pod's records can be erased with this status's write.
 */
export function erasedWithStatus(plans: ServicePlans, instance: string): { tasks: string[]; stepIds: string[] } | undefined {
  const kill = decommissionStepName.kill(instance);
  const phase = plans.decommission?.phases.find((ph) => ph.steps.some((s) => s.name === kill));
  if (!phase) return undefined;
  const erase = decommissionStepName.erase("");
  const pending = phase.steps.filter((s) => s.status !== "COMPLETE" && s.name !== kill);
  if (pending.length === 0 || pending.some((s) => !s.name.startsWith(erase))) return undefined;
  return { tasks: pending.map((s) => s.name.slice(erase.length)), stepIds: pending.map((s) => s.id) };
}
