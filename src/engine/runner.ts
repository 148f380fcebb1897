/**
 * The framework loop (the reference's FrameworkScheduler + OfferProcessor): subscribes once for
 * all services, queues offers, runs an offer cycle whenever offers or new work arrive and at
 * least every `cycleIntervalMs`, persists task statuses in batches (one multi for the updates
 * that queued up meanwhile) and acknowledges each once stored, kills tasks no
 * service owns, and revives/suppresses offers for the whole scheduler.
 */
import type { Offer, TaskStatus } from "../domain/cluster.js";
import { isTerminal } from "../domain/cluster.js";
import type { MultiServiceEventClient } from "./multi-service-event-client.js";
import type { MultiServiceManager } from "./multi-service-manager.js";
import type { CycleDeps, CycleOptions, CycleOutcome } from "./offer-cycle.js";
import { runOfferCycle } from "./offer-cycle.js";
import type { Cancel, Clock, ClusterDriver, ClusterEvents, FrameworkInfo, Logger, WriteFence } from "./ports.js";
import { ReviveLimiter } from "./revive-limiter.js";
import { Reconciler } from "./reconciler.js";
import type { KillDecision, ManagedService } from "./managed-service.js";
import type { Tracer } from "./telemetry.js";
import { NEW_TRACE, NO_TRACER, outsideTimers } from "./telemetry.js";
import { serviceSpanAttributes } from "./span-services.js";
import { tryParseTaskId } from "../domain/task-id.js";
import { TaskKiller } from "./task-killer.js";
import { WorkQueue } from "./work-queue.js";

export interface RunnerOptions extends CycleOptions {
  /** The loop runs even without offers this often. @default 5000 */
  readonly cycleIntervalMs: number;
  /** Implicit reconciliation (every task the cluster knows) this often, and at registration. @default 3_600_000 */
  readonly implicitReconcileMs: number;
  /**
   * Least time between two cycles started by events. A cycle visits every service, so under
   * a burst of offers and updates batching them beats a cycle per event. @default 10
   */
  readonly minCycleGapMs: number;
  /** Longest a burst of admissions waits for its cycle (scheduleSettled). @default 100 */
  readonly admitMaxWaitMs: number;
}

export interface RunnerDeps {
  readonly driver: ClusterDriver;
  readonly manager: MultiServiceManager;
  readonly client: MultiServiceEventClient;
  readonly clock: Clock;
  readonly log: Logger;
  /** Persists the framework ID on first registration. */
  readonly onFrameworkId: (id: string) => Promise<void>;
  /** Whether we may act; checked before every cycle and update. @default always */
  readonly fence?: WriteFence;
  /** Observes each cycle (benchmarks, metrics). */
  readonly onCycle?: (outcome: CycleOutcome, durationMs: number) => void;
  /** The cluster gave up on this framework (ClusterEvents.fatal); the runner has halted. */
  readonly onFatal?: (message: string) => void;
  /** Spans around cycles and status batches (telemetry.ts). @default NO_TRACER */
  readonly tracer?: Tracer;
}

/** How often offers are revived to look for a forced removal's leftovers, and for how long. */
export const GC_PROBE_MS = 60_000;
export const GC_EXPECT_MS = 24 * 3600 * 1000;

/** Most task statuses stored (in one multi) and acknowledged per work item. */
export const MAX_STATUS_BATCH = 512;

export class SchedulerRunner {
  readonly queue: WorkQueue;
  /** Undefined when tracing is off: the cycle and status paths then allocate nothing for it. Removals use it too. */
  readonly tracer: Tracer | undefined;
  private readonly pendingOffers = new Map<string, Offer>();
  private readonly pendingUpdates: TaskStatus[] = [];
  /** A work item that takes `pendingUpdates` is queued and has not started. */
  private updatesQueued = false;
  private readonly revives: ReviveLimiter;
  private readonly killer: TaskKiller;
  private readonly reconciler: Reconciler;
  private readonly cycleDeps: CycleDeps;
  /** The clock's timers, their callbacks outside every trace. */
  private readonly timers: Clock;
  private frameworkId: string | undefined;
  private suppressed = false;
  /** New work appeared; kept until a revive actually happens, so a denied revive is retried. */
  private reviveWanted = false;
  /**
   * Offers were declined (filtered) since the last revive; otherwise a revive would clear
   * nothing. True at start: a previous incarnation may have left filters behind.
   */
  private declinedSinceRevive = true;
  /**
   * Reservations may be lying around that no service owns (a forced removal, a previous
   * incarnation): keep offers coming, even with every service idle, until a cycle with offers
   * finds nothing to collect (the reference collects only while some service works, §7.2 h13).
   */
  private gcPending = true;
  /** Namespaces a forced removal left reservations of, by when: probed for until found or a day old. */
  private readonly expectedGarbage = new Map<string, number>();
  private gcProbe: Cancel | undefined;
  private cycleTimer: Cancel | undefined;
  /** The pending admissions' cycle (scheduleSettled), and when the first of them came. */
  private settleTimer: Cancel | undefined;
  private burstStartMs: number | undefined;
  private cycleDueMs = Number.POSITIVE_INFINITY;
  private lastCycleMs = Number.NEGATIVE_INFINITY;
  private implicitTimer: Cancel | undefined;
  private stopped = false;
  private fenced = false;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly options: RunnerOptions,
  ) {
    this.tracer = deps.tracer === NO_TRACER ? undefined : deps.tracer;
    this.queue = new WorkQueue(deps.log, this.tracer);
    this.revives = new ReviveLimiter(deps.clock.now());
    // Their timers fire beside the running work item: a retried kill or a reconciliation is part of no trace.
    const timers = this.tracer ? outsideTimers(deps.clock, this.tracer) : deps.clock;
    this.killer = new TaskKiller(deps.driver, timers, deps.log);
    this.reconciler = new Reconciler(deps.driver, timers, deps.manager, deps.log);
    this.timers = timers;
    const kill = (d: KillDecision): void => this.killer.kill(d.taskId, d.agentId, d.reason);
    this.cycleDeps = { client: deps.client, driver: deps.driver, log: deps.log, kill, ...(this.tracer ? { tracer: this.tracer } : {}) };
  }

  get registered(): boolean {
    return this.frameworkId !== undefined;
  }

  async start(framework: FrameworkInfo): Promise<void> {
    const events: ClusterEvents = {
      subscribed: (id) => this.queue.post("subscribed", () => this.onSubscribed(id)),
      offers: (offers) => this.onOffers(offers),
      rescind: (id) => this.pendingOffers.delete(id),
      update: (status) => this.queueUpdate(status),
      disconnected: (reason) => this.deps.log.warn({ reason }, "cluster subscription lost"),
      fatal: (message) => this.onFatal(message),
    };
    await this.deps.driver.subscribe(framework, events);
    this.scheduleCycle(this.options.cycleIntervalMs);
  }

  /** A service was added after start: register it with the cluster and give it offers soon. */
  serviceAdded(service: Pick<ManagedService, "registered" | "pendingReconciliation">): void {
    if (this.frameworkId !== undefined) this.registerService(service, this.frameworkId);
    this.scheduleSettled();
  }

  /**
   * A burst of admissions (puts, removals) shares one cycle: it runs once none came for
   * `minCycleGapMs`, at most `admitMaxWaitMs` after the first. Every cycle visits every service,
   * so a cycle per few puts of a burst costs O(services) each time and slows the puts still coming.
   */
  private scheduleSettled(): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    this.burstStartMs ??= now;
    const due = Math.min(now + this.options.minCycleGapMs, this.burstStartMs + this.options.admitMaxWaitMs);
    this.settleTimer?.();
    this.settleTimer = this.deps.clock.setTimer(Math.max(0, due - now), () => {
      this.settleTimer = undefined;
      this.burstStartMs = undefined;
      this.scheduleCycle(0);
    });
  }

  /**
   * An operator steered a service (plan or pod control): its kills go out now, through the
   * killer (re-sent until the task is dead), and offers are revived for the work it made.
   */
  steered(kills: readonly { readonly taskId: string; readonly agentId?: string; readonly reason: string }[]): void {
    for (const k of kills) this.killer.kill(k.taskId, k.agentId, k.reason);
    this.reviveWanted = true;
    this.declinedSinceRevive = true;
    this.scheduleCycle(0);
  }

  /**
   * Reservations may have been left behind: look at offers again and collect them. For
   * `expected` namespaces (a forced removal's leftovers, perhaps on an agent that is away) look
   * again every GC_PROBE_MS until they were collected, for at most a day.
   */
  collectGarbage(expected: readonly string[] = []): void {
    this.gcPending = true;
    this.reviveWanted = true;
    this.declinedSinceRevive = true;
    for (const ns of expected) this.expectedGarbage.set(ns, this.deps.clock.now());
    this.armGcProbe();
    this.scheduleCycle(0);
  }

  private armGcProbe(): void {
    if (this.gcProbe || this.expectedGarbage.size === 0 || this.stopped) return;
    this.gcProbe = this.timers.setTimer(GC_PROBE_MS, () => {
      this.gcProbe = undefined;
      const oldest = this.deps.clock.now() - GC_EXPECT_MS;
      for (const [ns, since] of this.expectedGarbage) if (since < oldest) this.expectedGarbage.delete(ns);
      if (this.expectedGarbage.size > 0) this.collectGarbage();
    });
  }

  async stop(): Promise<void> {
    this.halt();
    await this.queue.idle();
  }

  /** Stops all activity without waiting for queued work (callable from inside a work item). */
  halt(): void {
    this.stopped = true;
    this.cycleTimer?.();
    this.settleTimer?.();
    this.implicitTimer?.();
    this.killer.stop();
    this.reconciler.stop();
    this.gcProbe?.();
  }

  /**
   * Registering anew would orphan the framework's reservations and tasks, so the scheduler
   * stops instead and says why; the operator decides (dcos-commons re-registered silently).
   */
  private onFatal(message: string): void {
    this.deps.log.error({ frameworkId: this.frameworkId, reason: message }, "the cluster no longer serves this framework; stopping");
    this.halt();
    this.deps.onFatal?.(message);
  }

  private async onSubscribed(id: string): Promise<void> {
    if (this.frameworkId === undefined) await this.deps.onFrameworkId(id);
    this.frameworkId = id;
    this.declinedSinceRevive = true;
    this.deps.log.info({ frameworkId: id }, "registered with the cluster");
    // Every service registers before the reconciler's first request goes out (next turn), so
    // that request asks about every recovered service's tasks.
    for (const svc of this.deps.manager.services()) this.registerService(svc, id);
    this.reconcileImplicitly();
    this.scheduleCycle(0);
  }

  /** Asks for every task the cluster has for us, so tasks no service owns get killed. */
  private reconcileImplicitly(): void {
    this.implicitTimer?.();
    if (this.stopped) return;
    this.deps.driver.reconcile([]).catch((err: unknown) => this.deps.log.warn({ err }, "implicit reconciliation failed"));
    this.implicitTimer = this.timers.setTimer(this.options.implicitReconcileMs, () => this.reconcileImplicitly());
  }

  private registerService(service: Pick<ManagedService, "registered" | "pendingReconciliation">, frameworkId: string): void {
    const { kill, reconcile } = service.registered(frameworkId);
    for (const info of kill) this.killer.kill(info.taskId, info.agentId, "no plan of its service produces the task any more");
    if (reconcile.length > 0) this.reconciler.start(service);
  }

  private onOffers(offers: readonly Offer[]): void {
    for (const offer of offers) this.pendingOffers.set(offer.id, offer);
    this.suppressed = false;
    this.scheduleCycle(0);
  }

  /** False while the store lock is lost: then nothing is accepted, acknowledged or written. */
  private mayAct(): boolean {
    const holds = this.deps.fence?.holds() ?? true;
    if (!holds && !this.fenced) this.deps.log.warn({}, "store lock lost: not acting until it is held again");
    if (holds && this.fenced) this.deps.log.info({}, "store lock held again: acting");
    this.fenced = !holds;
    return holds;
  }

  /**
   * Updates wait in `pendingUpdates` for one work item that takes them all (up to
   * MAX_STATUS_BATCH): while one batch is being stored, the next one gathers.
   */
  private queueUpdate(status: TaskStatus): void {
    this.pendingUpdates.push(status);
    if (this.updatesQueued) return;
    this.updatesQueued = true;
    this.queue.post("updates", () => this.onUpdates());
  }

  private async onUpdates(): Promise<void> {
    this.updatesQueued = false;
    const batch = this.pendingUpdates.splice(0, MAX_STATUS_BATCH);
    if (this.pendingUpdates.length > 0) {
      this.updatesQueued = true;
      this.queue.post("updates", () => this.onUpdates());
    }
    // Unacknowledged, the updates are sent again; the scheduler that holds the lock takes them.
    if (batch.length === 0 || !this.mayAct()) return;
    if (this.tracer) return this.tracer.inSpan("engine.statusUpdates", () => this.statusAttributes(batch), () => this.storeUpdates(batch), NEW_TRACE);
    return this.storeUpdates(batch);
  }

  /** The services of a status batch (span-services.ts), by their names, not the task IDs' sanitized ones. */
  private statusAttributes(batch: readonly TaskStatus[]): Record<string, string | number> {
    const names: string[] = [];
    for (const s of batch) {
      const sanitized = tryParseTaskId(s.taskId)?.service;
      const svc = sanitized === undefined ? undefined : this.deps.manager.getBySanitized(sanitized);
      if (svc) names.push(svc.name);
    }
    return { "corral.statuses": batch.length, ...serviceSpanAttributes(names) };
  }

  private async storeUpdates(batch: readonly TaskStatus[]): Promise<void> {
    // Stored (one multi for the batch) before anything is applied or acknowledged.
    const { done, error } = await this.deps.client.taskStatuses(batch);
    if (error !== undefined) {
      this.deps.log.warn({ err: error, statuses: batch.length - done.length }, "could not store task statuses; they stay unacknowledged");
    }
    const acks: Promise<void>[] = [];
    for (const { status, answer } of done) {
      if (answer === "unknown" && !isTerminal(status.state)) this.killer.kill(status.taskId, status.agentId, "no service owns the task");
      if (isTerminal(status.state)) this.killer.dead(status.taskId);
      if (status.uuid !== undefined && status.agentId !== undefined) {
        acks.push(this.deps.driver.acknowledge(status.agentId, status.taskId, status.uuid));
      }
    }
    for (const r of await Promise.allSettled(acks)) {
      if (r.status === "rejected") this.deps.log.warn({ err: r.reason }, "acknowledgement failed; the update will come again");
    }
    this.scheduleCycle(0);
  }

  private scheduleCycle(requestedMs: number): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const delayMs = Math.max(requestedMs, this.lastCycleMs + this.options.minCycleGapMs - now);
    const due = now + delayMs;
    if (due >= this.cycleDueMs) return;
    this.cycleTimer?.();
    this.cycleDueMs = due;
    this.cycleTimer = this.deps.clock.setTimer(delayMs, () => {
      this.cycleTimer = undefined;
      this.cycleDueMs = Number.POSITIVE_INFINITY;
      this.queue.post("offer-cycle", () => this.cycle());
    });
  }

  private async cycle(): Promise<void> {
    if (this.stopped) return;
    // This cycle sees every service admitted so far.
    this.settleTimer?.();
    this.settleTimer = undefined;
    this.burstStartMs = undefined;
    this.scheduleCycle(this.options.cycleIntervalMs);
    if (this.frameworkId === undefined || !this.mayAct()) return;
    const offers = [...this.pendingOffers.values()];
    this.pendingOffers.clear();
    this.lastCycleMs = this.deps.clock.now();
    if (this.tracer) return this.tracer.inSpan("engine.offerCycle", { "corral.offers": offers.length }, () => this.runCycle(offers), NEW_TRACE);
    return this.runCycle(offers);
  }

  private async runCycle(offers: readonly Offer[]): Promise<void> {
    const started = this.deps.clock.now();
    const outcome = await runOfferCycle(this.cycleDeps, offers, this.options);
    this.deps.onCycle?.(outcome, this.deps.clock.now() - started);
    await this.reviveOrSuppress(outcome);
  }

  private async reviveOrSuppress(outcome: CycleOutcome): Promise<void> {
    for (const ns of outcome.collectedNamespaces) this.expectedGarbage.delete(ns);
    if (this.gcPending && outcome.offered > 0 && outcome.collected === 0) this.gcPending = false;
    if (!outcome.working && this.gcPending) {
      outcome = { ...outcome, working: true, newWork: true };
    }
    if (!outcome.working) {
      if (!this.suppressed) {
        this.suppressed = true;
        await this.deps.driver.suppress();
      }
      return;
    }
    this.reviveWanted ||= outcome.newWork;
    this.declinedSinceRevive ||= outcome.declined > 0;
    const useful = this.suppressed || (this.reviveWanted && this.declinedSinceRevive);
    if (!useful) {
      this.reviveWanted = false;
      return;
    }
    if (this.revives.tryTake(this.deps.clock.now())) {
      this.suppressed = false;
      this.reviveWanted = false;
      this.declinedSinceRevive = false;
      try {
        await this.deps.driver.revive();
      } catch (err) {
        // Not done: the framework may still be suppressed or filtered, so the next cycle revives again.
        this.reviveWanted = true;
        this.declinedSinceRevive = true;
        this.deps.log.warn({ err }, "REVIVE failed; trying again next cycle");
      }
    }
  }
}
