/**
 * The per-service scheduler (the reference's DefaultScheduler): owns one service's plans and
 * tasks, fits its candidate steps into offers, and folds task statuses into its steps.
 * Called only by the event client, one call at a time.
 */
import type { Offer, Operation, Resource, TaskInfo, TaskStatus } from "../domain/cluster.js";
import { LABEL_RESOURCE_ID, isTerminal } from "../domain/cluster.js";
import { sanitizeServiceName } from "../domain/names.js";
import type { LaunchContext } from "../domain/offer/evaluate.js";
import { evaluateOffer } from "../domain/offer/evaluate.js";
import { OfferPool, reservationLabels } from "../domain/offer/pool.js";
import { planStatus } from "../domain/plan/aggregate.js";
import { buildPlans } from "../domain/plan/build.js";
import type { Plan, Step } from "../domain/plan/model.js";
import { allSteps } from "../domain/plan/model.js";
import { applyTaskStatus, markLaunched, markPrepared, progressFor, readinessPassed } from "../domain/plan/step.js";
import { planCandidates } from "../domain/plan/strategy.js";
import { parseTaskId, taskInstanceName } from "../domain/task-id.js";
import type { Clock, Logger, PersisterOp, Random } from "./ports.js";
import type { BuiltService } from "./service-context.js";
import type { TaskSlot } from "./service-tasks.js";
import { recoverFailedTasks } from "./recovery.js";
import { RelaunchBackoff } from "./relaunch-backoff.js";
import { confirmsLaunch, isLive, podFootprint, reachedGoal, taskSlots } from "./service-tasks.js";
import type { StateStore, StoredTask } from "./store/state-store.js";

/** What a service needs from offers now (§1.1 ClientStatusResponse). */
export type ClientStatus =
  | { readonly kind: "WORKING"; readonly footprint: boolean; readonly newWork: boolean }
  | { readonly kind: "IDLE" };

export interface OfferResult {
  /** False while reconciliation is unfinished: unused offers are then declined short. */
  readonly ready: boolean;
  /** Candidate steps no offer could take: unused offers are then declined short, to come back soon. */
  readonly unplaced: number;
  /** Operations by offer ID. */
  readonly operations: ReadonlyMap<string, Operation[]>;
  /**
   * The TaskInfos the operations launch: `ops` must be stored before any operation leaves,
   * then `apply` records the launches. Left unstored, the operations must not be sent.
   */
  readonly launches?: PreparedLaunches;
}

export interface PreparedLaunches {
  readonly ops: readonly PersisterOp[];
  apply(): void;
}

export interface FrameworkIdentity {
  readonly name: string;
  readonly role: string;
  readonly principal: string;
}

export interface ServiceDeps {
  readonly store: StateStore;
  readonly random: Random;
  readonly clock: Clock;
  readonly log: Logger;
  readonly framework: FrameworkIdentity;
}

/** A status checked against its service's tasks, with the ops that store it (`prepareStatus`). */
export interface PreparedStatus {
  readonly service: ServiceScheduler;
  readonly instance: string;
  readonly status: TaskStatus;
  readonly confirmed: boolean;
  readonly ops: readonly PersisterOp[];
}

export type { BuiltService } from "./service-context.js";

export class ServiceScheduler {
  readonly name: string;
  readonly sanitizedName: string;
  readonly plans: Plan[];
  readonly recovery: Plan = { name: "recovery", strategy: "parallel", phases: [], errors: [], interrupted: false };
  private readonly slots: Map<string, TaskSlot>;
  private tasks = new Map<string, StoredTask>();
  private frameworkId: string | undefined;
  private unreconciled = new Set<string>();
  private lastCandidates = new Set<string>();
  /** Status is recomputed only after something changed: idle services cost nothing per cycle. */
  private dirty = true;
  private lastStatus: ClientStatus = { kind: "IDLE" };
  /** Set when a task ended: only then can recovery have new work. */
  private recoveryDue = true;
  private readonly backoff: RelaunchBackoff;

  constructor(
    readonly built: BuiltService,
    readonly configId: string,
    private readonly deps: ServiceDeps,
  ) {
    this.name = built.spec.name;
    this.sanitizedName = sanitizeServiceName(this.name);
    this.plans = buildPlans(built.spec, () => deps.random.uuid());
    this.slots = taskSlots(built.spec);
    this.backoff = new RelaunchBackoff(deps.clock);
  }

  deployPlan(): Plan {
    return this.plans[0] ?? this.recovery;
  }

  allPlans(): Plan[] {
    return [...this.plans, this.recovery];
  }

  /** Loads stored tasks and resumes each deploy step from what they say. */
  async load(): Promise<void> {
    this.tasks = await this.deps.store.loadTasks();
    for (const step of this.plans.flatMap(allSteps)) this.resumeStep(step);
    this.dirty = true;
    this.recoveryDue = true;
  }

  private resumeStep(step: Step): void {
    let allAtGoal = true;
    for (const name of step.tasks) {
      const instance = taskInstanceName(step.podType, step.podIndex, name);
      const stored = this.tasks.get(instance);
      const slot = this.slots.get(instance);
      if (!stored || !slot) {
        allAtGoal = false;
        continue;
      }
      step.taskIds.set(name, stored.info.taskId);
      if (!reachedGoal(stored, slot.task, this.configId)) allAtGoal = false;
      const st = stored.status;
      const ready = st ? readinessPassed(st, slot.task.readinessCheck !== undefined) : false;
      step.progress.set(name, st ? progressFor(st.state, slot.task.goal, ready) : "STARTING");
    }
    if (allAtGoal) {
      for (const name of step.tasks) step.progress.set(name, "COMPLETE");
      step.status = "COMPLETE";
    } else if (step.tasks.some((n) => step.progress.get(n) === "STARTING" || step.progress.get(n) === "STARTED")) {
      step.status = "STARTING";
    }
  }

  /**
   * The cluster (re)registered us. Returns the tasks to reconcile explicitly and the stored
   * tasks no plan produces any more (to kill). Offers get NOT_READY until reconciled.
   */
  registered(frameworkId: string): { reconcile: TaskInfo[]; kill: TaskInfo[] } {
    this.frameworkId = frameworkId;
    this.dirty = true;
    const reconcile = [...this.tasks.values()].filter((t) => isLive(t.status) || !t.status).map((t) => t.info);
    this.unreconciled = new Set(reconcile.map((i) => i.taskId));
    const kill = [...this.tasks.entries()].filter(([n, t]) => !this.slots.has(n) && isLive(t.status)).map(([, t]) => t.info);
    return { reconcile, kill };
  }

  /** Tasks whose reconciliation answer is still missing. */
  pendingReconciliation(): TaskInfo[] {
    return [...this.tasks.values()].filter((t) => this.unreconciled.has(t.info.taskId)).map((t) => t.info);
  }

  status(): ClientStatus {
    if (this.backoff.release()) this.dirty = true;
    if (!this.dirty) {
      return this.lastStatus.kind === "WORKING" ? { ...this.lastStatus, newWork: false } : this.lastStatus;
    }
    this.dirty = false;
    this.lastStatus = this.computeStatus();
    return this.lastStatus;
  }

  private computeStatus(): ClientStatus {
    if (this.recoveryDue) this.recoveryDue = this.addRecoverySteps();
    const candidates = this.candidates();
    const ids = new Set(candidates.map((s) => s.id));
    const newWork = candidates.some((s) => !this.lastCandidates.has(s.id));
    this.lastCandidates = ids;
    const deployDone = planStatus(this.deployPlan()) === "COMPLETE";
    const recoveryDone = planStatus(this.recovery) === "COMPLETE";
    if (deployDone && recoveryDone) return { kind: "IDLE" };
    return { kind: "WORKING", footprint: !deployDone, newWork };
  }

  /** Candidate steps of deploy, then recovery; a pod instance claimed by deploy is skipped later. */
  private candidates(): Step[] {
    const claimed = new Set<string>();
    const out: Step[] = [];
    for (const plan of [this.deployPlan(), this.recovery]) {
      for (const step of planCandidates(plan)) {
        const pod = `${step.podType}-${step.podIndex}`;
        if (claimed.has(pod)) continue;
        claimed.add(pod);
        out.push(step);
      }
    }
    return out;
  }

  /** Returns whether recovery must look again later (see `recoverFailedTasks`). */
  private addRecoverySteps(): boolean {
    return recoverFailedTasks({
      plans: this.plans,
      recovery: this.recovery,
      tasks: this.tasks,
      slots: this.slots,
      backoff: this.backoff,
      log: this.deps.log,
      newId: () => this.deps.random.uuid(),
    });
  }

  private launchContext(): LaunchContext {
    return {
      service: this.name,
      sanitizedService: this.sanitizedName,
      frameworkId: this.frameworkId ?? "",
      frameworkName: this.deps.framework.name,
      role: this.deps.framework.role,
      principal: this.deps.framework.principal,
      configId: this.configId,
      newId: () => this.deps.random.uuid(),
    };
  }

  /** Fits candidate steps into the offers; TaskInfos are stored before the operations are returned. */
  async offers(offers: readonly Offer[]): Promise<OfferResult> {
    const operations = new Map<string, Operation[]>();
    if (this.unreconciled.size > 0) return { ready: false, unplaced: 0, operations };
    // Pools are made on first use: most offers are never looked at by most services.
    const pools: (OfferPool | undefined)[] = new Array<OfferPool | undefined>(offers.length);
    const launched: { step: Step; infos: readonly TaskInfo[] }[] = [];
    if (offers.length === 0) {
      const waiting = this.candidates();
      for (const step of waiting) markPrepared(step, "waiting for offers");
      return { ready: true, unplaced: waiting.length, operations };
    }
    const ctx = this.launchContext();
    let unplaced = 0;
    for (const step of this.candidates()) {
      const slots = step.tasks.map((t) => this.slots.get(taskInstanceName(step.podType, step.podIndex, t)));
      const pod = slots[0]?.pod;
      if (!pod || slots.some((s) => !s)) {
        step.status = "ERROR";
        step.message = "step names tasks the spec does not have";
        continue;
      }
      const footprint = podFootprint(this.podTasks(step.podType, step.podIndex));
      const request = { pod, podIndex: step.podIndex, tasks: slots.map((s) => s!.task), ...(footprint ? { footprint } : {}) };
      let reason = "no offer matched";
      for (let i = 0; i < offers.length; i++) {
        const pool = (pools[i] ??= OfferPool.of(offers[i]!));
        const result = evaluateOffer(ctx, request, pool);
        if (result.kind === "no-match") {
          reason = result.reason;
          continue;
        }
        const id = pool.offer.id;
        operations.set(id, [...(operations.get(id) ?? []), ...result.operations]);
        pools[i] = result.pool;
        launched.push({ step, infos: result.tasks });
        break;
      }
      if (!launched.some((l) => l.step === step)) {
        markPrepared(step, reason);
        unplaced++;
      }
    }
    const launches = this.prepareLaunches(launched);
    return { ready: true, unplaced, operations, ...(launches ? { launches } : {}) };
  }

  private podTasks(podType: string, index: number): StoredTask[] {
    const out: StoredTask[] = [];
    for (const [instance, stored] of this.tasks) {
      const slot = this.slots.get(instance);
      if (slot && slot.pod.type === podType && slot.index === index) out.push(stored);
    }
    return out;
  }

  /** Tasks relaunched on reservations their previous, confirmed TaskInfo already held. */
  private relaunchedInPlace(infos: readonly TaskInfo[]): Set<string> {
    const out = new Set<string>();
    for (const info of infos) {
      const before = this.tasks.get(info.name);
      if (!before?.confirmed) continue;
      const held = new Set(before.info.resources.map((r) => reservationLabels(r)?.[LABEL_RESOURCE_ID]));
      if (info.resources.every((r) => held.has(reservationLabels(r)?.[LABEL_RESOURCE_ID]))) out.add(info.name);
    }
    return out;
  }

  /** The launch recorder: what to store for the TaskInfos, and what to note once stored. */
  private prepareLaunches(launched: readonly { step: Step; infos: readonly TaskInfo[] }[]): PreparedLaunches | undefined {
    if (launched.length === 0) return undefined;
    const infos = launched.flatMap((l) => l.infos);
    const inPlace = this.relaunchedInPlace(infos);
    return {
      ops: this.deps.store.storeTasksOps(infos, inPlace),
      apply: () => {
        this.dirty = true;
        for (const { step, infos } of launched) {
          const ids = new Map<string, string>();
          for (const info of infos) {
            this.tasks.set(info.name, { info, confirmed: inPlace.has(info.name) });
            const slot = this.slots.get(info.name);
            if (slot) ids.set(slot.task.name, info.taskId);
          }
          markLaunched(step, ids);
        }
      },
    };
  }

  /** Reserved resources in these (namespaced) offers that no stored task owns. */
  unexpectedResources(resources: readonly Resource[]): Resource[] {
    const owned = new Set<string>();
    for (const t of this.tasks.values()) {
      for (const r of t.info.resources) {
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
   * First half of a status update: what to store for it, or "unknown" (the caller should kill
   * the task). Changes nothing, so many statuses can be stored in one multi and applied after.
   */
  prepareStatus(status: TaskStatus): PreparedStatus | "unknown" {
    const instance = parseTaskId(status.taskId).taskName;
    const stored = this.tasks.get(instance);
    if (!stored || stored.info.taskId !== status.taskId) return "unknown";
    const confirmed = stored.confirmed || confirmsLaunch(status);
    return { service: this, instance, status, confirmed, ops: this.deps.store.statusOps(instance, status, confirmed && !stored.confirmed) };
  }

  /** Second half, once `prepared.ops` are stored: fold the status into the task and its steps. */
  applyStatus(prepared: PreparedStatus): "processed" | "unknown" {
    const { instance, status } = prepared;
    const stored = this.tasks.get(instance);
    if (!stored || stored.info.taskId !== status.taskId) return "unknown";
    this.unreconciled.delete(status.taskId);
    this.dirty = true;
    if (isTerminal(status.state)) this.recoveryDue = true;
    // Once confirmed, a TaskInfo stays confirmed (an earlier status of the same batch may have).
    this.tasks.set(instance, { info: stored.info, status, confirmed: prepared.confirmed || stored.confirmed });
    const slot = this.slots.get(instance);
    if (!slot) return isTerminal(status.state) ? "processed" : "unknown";
    const pod = `${slot.pod.type}-${slot.index}`;
    this.backoff.observe(pod, status, slot.task.goal);
    for (const plan of this.allPlans()) {
      for (const phase of plan.phases) {
        for (const step of phase.steps) {
          if (step.podType !== slot.pod.type || step.podIndex !== slot.index) continue;
          if (!step.tasks.includes(slot.task.name)) continue;
          const changed = applyTaskStatus(step, slot.task.name, status, slot.task.goal, slot.task.readinessCheck !== undefined);
          // A deploy step that retries a failed FINISH/ONCE task backs off like recovery does;
          // a recovery step's next attempt (and its back-off) is decided by recovery planning.
          if (changed && isTerminal(status.state) && plan !== this.recovery) this.backoff.hold(step, pod);
        }
      }
    }
    return "processed";
  }
}
