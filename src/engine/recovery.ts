/**
 * Recovery, engine side: gathers the failed tasks, asks the domain what the recovery plan
 * should do (`domain/plan/recovery.ts`: one phase per pod type, one step per pod instance,
 * reused by every recovery of it), puts the decisions into the plan, holds DELAYED steps in
 * the crash-loop back-off, and logs one line per relaunched pod instance saying why.
 */
import type { Plan } from "../domain/plan/model.js";
import type { RecoveryDecision } from "../domain/plan/recovery.js";
import { applyRecoveryDecision, formatDelay, planRecovery } from "../domain/plan/recovery.js";
import type { Logger } from "./ports.js";
import type { RelaunchBackoff } from "./relaunch-backoff.js";
import type { TaskSlot } from "./service-tasks.js";
import { failedTasks } from "./service-tasks.js";
import type { StoredTask } from "./store/state-store.js";

export interface RecoveryDeps {
  /** The service's plans other than recovery. */
  readonly plans: readonly Plan[];
  readonly recovery: Plan;
  readonly tasks: ReadonlyMap<string, StoredTask>;
  readonly slots: ReadonlyMap<string, TaskSlot>;
  readonly backoff: RelaunchBackoff;
  /** The service's logger (`service` is bound already). */
  readonly log: Logger;
  readonly newId: () => string;
}

/** Relaunches what died; returns whether recovery must look again later (a pod instance was busy). */
export function recoverFailedTasks(d: RecoveryDeps): boolean {
  const { decisions, deferred } = planRecovery({
    plans: d.plans,
    recovery: d.recovery,
    failed: failedTasks(d.tasks, d.slots),
    failuresInARow: (pod) => d.backoff.failures(pod),
  });
  for (const decision of decisions) {
    const { step, replaced } = applyRecoveryDecision(d.recovery, decision, d.newId);
    if (replaced) d.backoff.forget(replaced);
    if (decision.delayMs > 0) d.backoff.holdFor(step, decision.delayMs);
    d.log.info(recoveryLogFields(decision), recoveryLogLine(decision));
  }
  return deferred;
}

/** `recovering hello-0:[server]: attempt 3: task hello-0-server failed: command exited with status 1; relaunching in 2 s` */
export function recoveryLogLine(d: RecoveryDecision): string {
  const when = d.delayMs > 0 ? `relaunching in ${formatDelay(d.delayMs)}` : "relaunching now";
  return `recovering ${d.stepName}: attempt ${d.attempt}: ${d.why}; ${when}`;
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
    attempt: d.attempt,
    delayMs: d.delayMs,
  };
}
