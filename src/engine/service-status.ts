/**
 * A task status for a running service in two halves: `prepareServiceStatus` checks it against
 * the service's task records and works out what to store (the status, the confirmation of its
 * reservations, a whole pod marked permanently failed by TASK_GONE_BY_OPERATOR, decommissioned
 * records erased with it) without changing anything; `apply()`, once stored, folds it into the
 * task records and the plans. Many statuses (of any services) are thus stored in one multi.
 */
import type { TaskStatus } from "../domain/cluster.js";
import { isTerminal } from "../domain/cluster.js";
import { findStep } from "../domain/service/plans.js";
import { erasedWithStatus, foldStatus } from "../domain/service/status.js";
import { confirmsLaunch, keepUnreachableSince, markedByStatus } from "../domain/service/task-record.js";
import { markComplete } from "../domain/plan/step.js";
import { parseTaskId } from "../domain/task-id.js";
import type { ManagedService } from "./managed-service.js";
import type { PersisterOp } from "./ports.js";
import { withInfos } from "./service-pod-control.js";
import type { ServiceInternals } from "./service-internals.js";

/** A status checked against the service's tasks, with the ops that store it. */
export interface PreparedStatus {
  readonly service: ManagedService;
  readonly instance: string;
  readonly status: TaskStatus;
  readonly confirmed: boolean;
  readonly ops: readonly PersisterOp[];
  apply(): "processed" | "unknown";
}

export function prepareServiceStatus(service: ManagedService, svc: ServiceInternals, status: TaskStatus): PreparedStatus | "unknown" {
  const instance = parseTaskId(status.taskId).taskName;
  const stored = svc.tasks.get(instance);
  if (!stored || stored.info.taskId !== status.taskId) return "unknown";
  const confirmed = stored.confirmed || confirmsLaunch(status);
  const erase = !svc.slots.has(instance) && isTerminal(status.state) ? erasedWithStatus(svc.plans, instance) : undefined;
  const marks = markedByStatus(svc.tasks, svc.slots.get(instance), status);
  const kept = keepUnreachableSince(stored.status, status);
  const ops = [
    ...marks.flatMap((info) => svc.store.taskInfoOps(info)),
    ...svc.store.statusOps(instance, kept, confirmed && !stored.confirmed),
    ...(erase?.tasks.flatMap((t) => svc.store.eraseTaskOps(t)) ?? []),
  ];
  const prepared: PreparedStatus = {
    service,
    instance,
    status: kept,
    confirmed,
    ops,
    apply: () => {
      withInfos(svc.tasks, marks);
      const answer = applyStatus(svc, prepared);
      if (erase) erased(svc, erase);
      return answer;
    },
  };
  return prepared;
}

/** Decommissioned records erased with a status write. */
function erased(svc: ServiceInternals, erase: { tasks: readonly string[]; stepIds: readonly string[] }): void {
  for (const t of erase.tasks) svc.tasks.delete(t);
  for (const step of erase.stepIds.map((id) => findStep(svc.plans, id))) if (step) markComplete(step);
}

/** Second half, once `prepared.ops` are stored: fold the status into the task and its steps. */
function applyStatus(svc: ServiceInternals, prepared: PreparedStatus): "processed" | "unknown" {
  const { instance, status } = prepared;
  const stored = svc.tasks.get(instance);
  if (!stored || stored.info.taskId !== status.taskId) return "unknown";
  svc.unreconciled.delete(status.taskId);
  svc.touch();
  // Once confirmed, a TaskInfo stays confirmed (an earlier status of the same batch may have).
  svc.tasks.set(instance, { info: stored.info, status, confirmed: prepared.confirmed || stored.confirmed });
  const fold = foldStatus(svc.plans, svc.backoff, instance, svc.slots.get(instance), status, svc.now(), stored.info.check !== undefined);
  svc.backoff = fold.backoff;
  return fold.slotless && !isTerminal(status.state) ? "unknown" : "processed";
}
