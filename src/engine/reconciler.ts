/**
 * Explicit reconciliation (reference ExplicitReconciler): asks the cluster for the state of
 * every task a service believes live, at once and then after 8 s, 16 s and every 30 s, until
 * each has answered. A service with unanswered tasks answers offers NOT_READY meanwhile.
 */
import type { MultiServiceManager } from "./multi-service-manager.js";
import type { Cancel, Clock, ClusterDriver, Logger } from "./ports.js";

const BACKOFF_MS = [8_000, 16_000, 30_000];

export class Reconciler {
  private timer: Cancel | undefined;
  private round = 0;
  private active = false;

  constructor(
    private readonly driver: ClusterDriver,
    private readonly clock: Clock,
    private readonly manager: MultiServiceManager,
    private readonly log: Logger,
  ) {}

  /** Starts (or restarts) a reconciliation pass over every service. */
  start(): void {
    this.round = 0;
    if (this.active) return;
    this.active = true;
    this.request();
  }

  private request(): void {
    const tasks = this.manager.services().flatMap((s) => s.pendingReconciliation());
    if (tasks.length === 0) {
      this.active = false;
      return;
    }
    this.log.info({ tasks: tasks.length, round: this.round }, "reconciling tasks");
    this.driver
      .reconcile(tasks.map((t) => ({ taskId: t.taskId, agentId: t.agentId })))
      .catch((err: unknown) => this.log.warn({ err }, "reconcile request failed"));
    const delay = BACKOFF_MS[Math.min(this.round, BACKOFF_MS.length - 1)] ?? 30_000;
    this.round++;
    this.timer = this.clock.setTimer(delay, () => this.request());
  }

  stop(): void {
    this.timer?.();
    this.active = false;
  }
}
