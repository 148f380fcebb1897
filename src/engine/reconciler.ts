/**
 * Explicit reconciliation (reference ExplicitReconciler): asks the cluster for the state of
 * every task a service believes live, at once and then after 8 s, 16 s and every 30 s, until
 * each has answered. A service with unanswered tasks answers offers NOT_READY meanwhile.
 *
 * `start()` never sends by itself: it asks for a request on the next turn (a 0 ms timer), so
 * every service registered in the same turn (all recovered services at subscription) is in
 * the same first request, and a service registered while a pass is waiting out its back-off
 * is asked for at once, not at the next retry. Such a request names only tasks not asked for
 * yet in this pass: services registered one by one (hundreds of removals begun in a burst)
 * must not each re-ask for every unanswered task. A retry asks for all that are unanswered.
 */
import type { ManagedService } from "./managed-service.js";
import type { MultiServiceManager } from "./multi-service-manager.js";
import type { Cancel, Clock, ClusterDriver, Logger } from "./ports.js";

const BACKOFF_MS = [8_000, 16_000, 30_000];

export class Reconciler {
  private timer: Cancel | undefined;
  private round = 0;
  /** A request is due on the next turn: further `start()` calls join it. */
  private soon = false;
  private stopped = false;
  /** Tasks asked for since the last retry. */
  private readonly asked = new Set<string>();
  /** Services that asked for a pass since the last request; or every one. */
  private readonly fresh = new Set<Pick<ManagedService, "pendingReconciliation">>();
  private everyService = false;

  constructor(
    private readonly driver: ClusterDriver,
    private readonly clock: Clock,
    private readonly manager: MultiServiceManager,
    private readonly log: Logger,
  ) {}

  /**
   * Starts (or restarts) a reconciliation pass: a request goes out next turn, naming the tasks of
   * `service` (every service's when none is named) not asked for yet in this pass.
   */
  start(service?: Pick<ManagedService, "pendingReconciliation">): void {
    if (service) {
      // Registered (again): its tasks are asked about afresh.
      for (const t of service.pendingReconciliation()) this.asked.delete(t.taskId);
      this.fresh.add(service);
    } else this.everyService = true;
    this.round = 0;
    if (this.soon || this.stopped) return;
    this.timer?.();
    this.soon = true;
    this.timer = this.clock.setTimer(0, () => this.request(false));
  }

  private request(retry: boolean): void {
    this.soon = false;
    this.timer = undefined;
    if (retry) this.asked.clear();
    // Between retries only the services that asked are looked at: a burst of registrations
    // (hundreds of removals) must not scan every service each time.
    const everyService = retry || this.everyService;
    const sources = everyService ? this.manager.services() : [...this.fresh];
    this.fresh.clear();
    this.everyService = false;
    const pending = sources.flatMap((s) => s.pendingReconciliation());
    if (everyService && pending.length === 0) {
      this.asked.clear();
      return;
    }
    const tasks = pending.filter((t) => !this.asked.has(t.taskId));
    if (tasks.length > 0) {
      for (const t of tasks) this.asked.add(t.taskId);
      this.log.info({ tasks: tasks.length, round: this.round }, "reconciling tasks");
      this.driver
        .reconcile(tasks.map((t) => ({ taskId: t.taskId, agentId: t.agentId })))
        .catch((err: unknown) => this.log.warn({ err }, "reconcile request failed"));
    }
    const delay = BACKOFF_MS[Math.min(this.round, BACKOFF_MS.length - 1)] ?? 30_000;
    this.round++;
    this.timer = this.clock.setTimer(delay, () => this.request(true));
  }

  /** For good: the scheduler is going away. */
  stop(): void {
    this.stopped = true;
    this.timer?.();
    this.timer = undefined;
    this.soon = false;
  }
}
