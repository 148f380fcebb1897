/**
 * Explicit reconciliation (reference ExplicitReconciler): asks the cluster for the state of
 * every task a service believes live, at once and then after 8 s, 16 s and every 30 s, until
 * each has answered. A service with unanswered tasks answers offers NOT_READY meanwhile.
 *
 * `start()` never sends by itself: it asks for a request on the next turn (a 0 ms timer), so
 * every service registered in the same turn (all recovered services at subscription) is in
 * the same first request, and a service registered while a pass is waiting out its back-off
 * is asked for at once (with everything still unanswered), not at the next retry.
 */
import type { MultiServiceManager } from "./multi-service-manager.js";
import type { Cancel, Clock, ClusterDriver, Logger } from "./ports.js";

const BACKOFF_MS = [8_000, 16_000, 30_000];

export class Reconciler {
  private timer: Cancel | undefined;
  private round = 0;
  /** A request is due on the next turn: further `start()` calls join it. */
  private soon = false;
  private stopped = false;

  constructor(
    private readonly driver: ClusterDriver,
    private readonly clock: Clock,
    private readonly manager: MultiServiceManager,
    private readonly log: Logger,
  ) {}

  /** Starts (or restarts) a reconciliation pass over every service: a request goes out next turn. */
  start(): void {
    this.round = 0;
    if (this.soon || this.stopped) return;
    this.timer?.();
    this.soon = true;
    this.timer = this.clock.setTimer(0, () => this.request());
  }

  private request(): void {
    this.soon = false;
    this.timer = undefined;
    const tasks = this.manager.services().flatMap((s) => s.pendingReconciliation());
    if (tasks.length === 0) return;
    this.log.info({ tasks: tasks.length, round: this.round }, "reconciling tasks");
    this.driver
      .reconcile(tasks.map((t) => ({ taskId: t.taskId, agentId: t.agentId })))
      .catch((err: unknown) => this.log.warn({ err }, "reconcile request failed"));
    const delay = BACKOFF_MS[Math.min(this.round, BACKOFF_MS.length - 1)] ?? 30_000;
    this.round++;
    this.timer = this.clock.setTimer(delay, () => this.request());
  }

  /** For good: the scheduler is going away. */
  stop(): void {
    this.stopped = true;
    this.timer?.();
    this.timer = undefined;
    this.soon = false;
  }
}
