/**
 * The agent side of at-least-once status delivery (mesos-v1-api.md §12): every update an
 * agent or executor produces carries a uuid and is re-sent every `retryMs` until acknowledged.
 * With `headOfLine` (Mesos' behaviour) only the oldest unacknowledged update of a task is in
 * flight; the next one waits for its ack, so a missing ack freezes the task's state as the
 * scheduler sees it.
 */
import type { TaskState, TaskStatus } from "../../domain/cluster.js";
import type { Cancel } from "../../engine/ports.js";

export interface StatusChannelOptions {
  /** Clock-driven scheduling; delivery never happens inside the call that caused it. */
  readonly schedule: (delayMs: number, fn: () => void) => Cancel;
  /** Hands the update to the scheduler; false while nobody is subscribed (see `resendAll`). */
  readonly deliver: (status: TaskStatus) => boolean;
  readonly retryMs: number;
  readonly headOfLine: boolean;
}

interface Pending {
  readonly status: TaskStatus;
  retry: Cancel | undefined;
  acked: boolean;
}

/** Per-task queues of unacknowledged updates with retry timers. */
export class StatusChannel {
  private readonly queues = new Map<string, Pending[]>();

  constructor(private readonly options: StatusChannelOptions) {}

  /** Queues an update that has a uuid; it is delivered asynchronously when it is in flight. */
  send(status: TaskStatus): void {
    const queue = this.queues.get(status.taskId) ?? [];
    this.queues.set(status.taskId, queue);
    const p: Pending = { status, retry: undefined, acked: false };
    queue.push(p);
    if (!this.options.headOfLine || queue.length === 1) this.forwardSoon(p);
  }

  /** Acknowledges one update; false when no unacknowledged update of the task has that uuid. */
  ack(taskId: string, uuid: string): boolean {
    const queue = this.queues.get(taskId) ?? [];
    const i = queue.findIndex((p) => p.status.uuid === uuid);
    if (i < 0 || (this.options.headOfLine && i > 0)) return false;
    const [p] = queue.splice(i, 1);
    if (p) this.settle(p);
    if (queue.length === 0) this.queues.delete(taskId);
    else if (this.options.headOfLine && queue[0]) this.forwardSoon(queue[0]);
    return true;
  }

  /** Re-sends every update in flight now, e.g. right after a (re)subscription. */
  resendAll(): void {
    for (const queue of this.queues.values()) {
      for (const p of this.options.headOfLine ? queue.slice(0, 1) : queue) this.forwardSoon(p);
    }
  }

  /** The unacknowledged updates of one task, oldest first. */
  queued(taskId: string): TaskStatus[] {
    return (this.queues.get(taskId) ?? []).map((p) => p.status);
  }

  /** Unacknowledged updates of one task, or of all tasks. */
  pending(taskId?: string): number {
    if (taskId !== undefined) return this.queues.get(taskId)?.length ?? 0;
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** Drops the updates of one task (or all), cancelling their retries. */
  clear(taskId?: string): void {
    const queues =
      taskId === undefined ? [...this.queues.values()] : [this.queues.get(taskId) ?? []];
    for (const q of queues) for (const p of q) this.settle(p);
    if (taskId === undefined) this.queues.clear();
    else this.queues.delete(taskId);
  }

  private settle(p: Pending): void {
    p.acked = true;
    p.retry?.();
    p.retry = undefined;
  }

  private forwardSoon(p: Pending): void {
    p.retry?.();
    p.retry = this.options.schedule(0, () => this.forward(p));
  }

  private forward(p: Pending): void {
    p.retry = undefined;
    if (p.acked || !this.options.deliver(p.status)) return;
    p.retry = this.options.schedule(this.options.retryMs, () => this.forward(p));
  }
}

/** A master-generated update: no uuid, never acknowledged. */
export function masterStatus(
  taskId: string,
  state: TaskState,
  timestampMs: number,
  reason: string,
  message: string,
  agentId?: string,
): TaskStatus {
  const base: TaskStatus = { taskId, state, source: "SOURCE_MASTER", reason, message, timestampMs };
  return agentId === undefined ? base : { ...base, agentId };
}

const RECONCILIATION = "REASON_RECONCILIATION";

/**
 * Reconciliation answer for a known task (§14): the state of the update last sent to the
 * scheduler (STAGING before any), with its health and check status; no uuid, no labels.
 */
export function latestStatus(
  taskId: string,
  agentId: string,
  lastSent: TaskStatus | undefined,
  nowMs: number,
): TaskStatus {
  const state = lastSent?.state ?? "TASK_STAGING";
  const message = "Reconciliation: Latest task state";
  return {
    ...masterStatus(taskId, state, nowMs, RECONCILIATION, message, agentId),
    ...(lastSent?.healthy === undefined ? {} : { healthy: lastSent.healthy }),
    ...(lastSent?.checkStatus === undefined ? {} : { checkStatus: lastSent.checkStatus }),
  };
}

/**
 * Reconciliation answer for a task the master does not know (§14 table). `agentState` is the
 * state of the named agent, undefined when no agent or an unknown one was named.
 */
export function unknownTaskStatus(
  taskId: string,
  agentId: string | undefined,
  agentState: "active" | "unreachable" | "gone" | undefined,
  partitionAware: boolean,
  nowMs: number,
): TaskStatus {
  let state: TaskState = "TASK_LOST";
  if (partitionAware) {
    const byAgent = { active: "TASK_GONE", unreachable: "TASK_UNREACHABLE", gone: "TASK_GONE_BY_OPERATOR" } as const;
    state = agentState === undefined ? "TASK_UNKNOWN" : byAgent[agentState];
  }
  const message = "Reconciliation: Task is unknown";
  return masterStatus(taskId, state, nowMs, RECONCILIATION, message, agentId);
}
