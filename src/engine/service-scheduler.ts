/**
 * A running service (the reference's DefaultScheduler): holds its state — target config, plans,
 * task records, back-off — and applies what the decision core (`domain/service/decide.ts`)
 * decides: it stores TaskInfos before their launch leaves, records releases and erasures, folds
 * task statuses into its plans. Called only by the event client, one call at a time.
 */
import type { Offer, Operation, Resource, TaskInfo, TaskStatus } from "../domain/cluster.js";
import { sanitizeServiceName } from "../domain/names.js";
import { planStatus } from "../domain/plan/aggregate.js";
import type { BackoffState } from "../domain/plan/backoff.js";
import { NO_BACKOFF, backoffDue } from "../domain/plan/backoff.js";
import type { Plan } from "../domain/plan/model.js";
import { recoveryLogFields, recoveryLogLine } from "../domain/plan/recovery.js";
import { decideService } from "../domain/service/decide.js";
import type { FrameworkIdentity, ServiceDecisions, ServiceState } from "../domain/service/model.js";
import type { ServicePlans } from "../domain/service/plans.js";
import { allPlans, buildServicePlans, cycleFailedOn, findStep, launchRefused, resumePlans } from "../domain/service/plans.js";
import type { StoredTask, TaskSlot } from "../domain/service/task-record.js";
import { registrationWork, taskSlots, unownedReservations } from "../domain/service/task-record.js";
import type { ServiceView } from "./admin-api.js";
import type { PlanControlInput, PlanControlResult, PodAction } from "./admin-api.js";
import type { ClientStatus, ManagedService, OfferResult, PodControlOutcome, PodState, PreparedControl, UpdateOutcome } from "./managed-service.js";
import { prepareLaunches } from "./service-launches.js";
import type { Clock, Logger, Random } from "./ports.js";
import type { BuiltService, ServiceContext } from "./service-context.js";
import type { ServiceCarryOver } from "./service-update.js";
import { prepareServiceUpdate } from "./service-update.js";
import type { ServiceInternals } from "./service-internals.js";
import { preparePlanControl, restorePlanOverrides } from "./service-plan-control.js";
import { giveUpUnreachable, podStates, preparePodControl, restorePausedPods } from "./service-pod-control.js";
import { prepareServiceStatus } from "./service-status.js";
import type { PreparedStatus } from "./service-status.js";
import { serviceView } from "./service-view.js";
import type { StateStore } from "./store/state-store.js";

export type { ClientStatus, OfferResult, PreparedLaunches } from "./managed-service.js";
export type { PreparedStatus } from "./service-status.js";
export type { FrameworkIdentity } from "../domain/service/model.js";
export type { BuiltService } from "./service-context.js";

export interface ServiceDeps {
  readonly store: StateStore;
  readonly random: Random;
  readonly clock: Clock;
  readonly log: Logger;
  readonly framework: FrameworkIdentity;
  /** A pod whose RUNNING tasks stay UNREACHABLE or LOST this long is replaced (moves); 0 never. @default 0 */
  readonly replaceUnreachableAfterMs?: number;
}

export class ServiceScheduler implements ManagedService {
  readonly name: string;
  readonly sanitizedName: string;
  readonly defaultPlan = "deploy";
  readonly removing = false;
  readonly slots: ReadonlyMap<string, TaskSlot>;
  private plans: ServicePlans;
  private tasks = new Map<string, StoredTask>();
  private backoff: BackoffState = NO_BACKOFF;
  private paused: ReadonlySet<string> = new Set();
  private frameworkId = "";
  private unreconciled = new Set<string>();
  private lastCandidates = new Set<string>();
  /** Status is recomputed only after something changed: idle services cost nothing per cycle. */
  private stale = true;
  /** See ManagedService: called with every change (`touch`) and every decision that changed the plans. */
  planChanged: (() => void) | undefined;
  private lastStatus: ClientStatus = { kind: "IDLE" };
  /** The answer to no offers while nothing changes (not stale); unset when deciding would write or recover. */
  private quietAnswer: OfferResult | undefined;
  /** Steps launched on each offer of the last cycle, for `acceptRefused`. */
  private launchedOn = new Map<string, string[]>();
  /** A deployment completed (this config's or an earlier one's): a later change may run the `update` plan. */
  private deployedOnce = false;
  /** Set while this service, made by an update, has not been registered yet. */
  private carried: ServiceCarryOver | undefined;
  /** Why the deployment limit keeps it from acquiring resources; undefined: it may. */
  private slotWait: string | undefined;

  constructor(
    readonly built: BuiltService,
    readonly configId: string,
    private readonly deps: ServiceDeps,
    carried?: ServiceCarryOver,
  ) {
    this.name = built.spec.name;
    this.sanitizedName = sanitizeServiceName(this.name);
    this.slots = taskSlots(built.spec);
    if (carried) {
      this.tasks = carried.tasks;
      this.plans = carried.plans;
      this.frameworkId = carried.frameworkId;
      this.backoff = carried.backoff;
      this.deployedOnce = carried.deployedOnce;
      this.paused = carried.paused;
      this.carried = carried;
    } else {
      this.deployedOnce = built.context.deployed === true;
      this.plans = buildServicePlans(built.spec, configId, this.tasks, () => deps.random.uuid(), { update: this.deployedOnce });
    }
  }

  /** Something changed: decide again (status) next cycle, and tell the plan events. */
  private touch(): void {
    this.stale = true;
    this.planChanged?.();
  }

  get context(): ServiceContext {
    return this.built.context;
  }

  allPlans(): Plan[] {
    return allPlans(this.plans);
  }

  view(): ServiceView {
    return serviceView(this);
  }

  /** Loads stored tasks and resumes each step from what they say. */
  async load(): Promise<void> {
    this.tasks = await this.deps.store.loadTasks();
    const steering = await this.deps.store.loadSteering();
    this.plans = resumePlans(this.plans, this.built.spec, this.configId, this.tasks, () => this.deps.random.uuid());
    restorePausedPods(this.internals, steering.pausedPods);
    restorePlanOverrides(this.internals, steering.planOverrides);
    this.touch();
  }

  controlPlan(input: PlanControlInput): PreparedControl<PlanControlResult> {
    return preparePlanControl(this.internals, input);
  }

  controlPod(pod: string, action: PodAction): PreparedControl<PodControlOutcome> {
    return preparePodControl(this.internals, pod, action);
  }

  pods(): PodState[] {
    return podStates(this.internals);
  }

  /** What plan and pod control may see and change of this service. */
  private readonly internals: ServiceInternals = ((self: ServiceScheduler): ServiceInternals => ({
    get name() { return self.name; },
    get built() { return self.built; },
    get configId() { return self.configId; },
    get slots() { return self.slots; },
    get store() { return self.deps.store; },
    get log() { return self.deps.log; },
    get plans() { return self.plans; },
    set plans(p) { self.plans = p; },
    get tasks() { return self.tasks; },
    get backoff() { return self.backoff; },
    set backoff(b) { self.backoff = b; },
    get unreconciled() { return self.unreconciled; },
    get paused() { return self.paused; },
    set paused(p) { self.paused = p; },
    now: () => self.deps.clock.now(),
    newId: () => self.deps.random.uuid(),
    touch: () => {
      self.touch();
      self.quietAnswer = undefined;
    },
  }))(this);

  prepareUpdate(built: BuiltService, configId: string, options: { readonly dryRun: boolean }): UpdateOutcome {
    const { built: current, configId: currentId, tasks, frameworkId, backoff, unreconciled, paused } = this;
    const deployedOnce = this.deployedOnce || planStatus(this.plans.deploy) === "COMPLETE";
    const base = { built: current, configId: currentId, tasks, frameworkId, backoff, deployedOnce, unreconciled, paused, store: this.deps.store, newId: () => this.deps.random.uuid() };
    return prepareServiceUpdate(base, built, configId, options, (carried) => new ServiceScheduler(built, configId, this.deps, carried));
  }

  /**
   * The cluster (re)registered us. Returns the tasks to reconcile explicitly, and the stored
   * tasks no slot of the spec has (to kill). Offers get NOT_READY until reconciled.
   */
  registered(frameworkId: string): { reconcile: TaskInfo[]; kill: TaskInfo[] } {
    // Registered as a reconfigured service under the same framework: only what its predecessor
    // still waited for is asked about (1,000 updates would otherwise re-reconcile 3,000 tasks).
    const known = this.carried?.frameworkId === frameworkId && frameworkId !== "" ? this.carried.unreconciled : undefined;
    this.carried = undefined;
    this.frameworkId = frameworkId;
    this.touch();
    const work = registrationWork(this.tasks, this.slots, known);
    this.unreconciled = new Set(work.reconcile.map((i) => i.taskId));
    return work;
  }

  pendingReconciliation(): TaskInfo[] {
    return [...this.tasks.values()].filter((t) => this.unreconciled.has(t.info.taskId)).map((t) => t.info);
  }

  private state(): ServiceState {
    return {
      name: this.name,
      sanitizedName: this.sanitizedName,
      spec: this.built.spec,
      slots: this.slots,
      configId: this.configId,
      plans: this.plans,
      tasks: this.tasks,
      unreconciled: this.unreconciled,
      backoff: this.backoff,
      ...(this.paused.size > 0 ? { paused: this.paused } : {}),
      frameworkId: this.frameworkId,
      framework: this.deps.framework,
      ...(this.slotWait !== undefined ? { deploySlotWait: this.slotWait } : {}),
    };
  }

  deploySlot(waiting: string | undefined): void {
    if (waiting === this.slotWait) return;
    this.slotWait = waiting;
    this.touch();
    this.quietAnswer = undefined;
  }

  /** Decides and takes the plans and back-off it leaves (steps, recoveries); launches are applied once stored. */
  private decide(offers: readonly Offer[] | undefined): ServiceDecisions {
    const d = decideService(this.state(), offers, this.deps.clock.now(), () => this.deps.random.uuid());
    // The decision copies the plans it changes: the same object back means nothing changed.
    if (d.plans !== this.plans) this.planChanged?.();
    const quiet = offers?.length === 0 && this.unreconciled.size === 0 && d.launches.length + d.releases.length + d.erases.length + d.recoveries.length === 0 && !d.recoveryDeferred;
    this.quietAnswer = quiet ? { ready: true, unplaced: d.unplaced.length, operations: new Map(), ...(d.kills.length > 0 ? { kills: d.kills } : {}) } : undefined;
    this.plans = d.plans;
    this.backoff = d.backoff;
    for (const r of d.recoveries) this.deps.log.info(recoveryLogFields(r), recoveryLogLine(r));
    if (d.recoveryDeferred) this.touch();
    return d;
  }

  status(): ClientStatus {
    if (backoffDue(this.backoff, this.deps.clock.now())) this.touch();
    if (!this.stale) {
      return this.lastStatus.kind === "WORKING" ? { ...this.lastStatus, newWork: false } : this.lastStatus;
    }
    this.stale = false;
    // Decided as for no offers: most working services get none this cycle (others take them all).
    const { work } = this.decide([]);
    const newWork = work.candidates.some((id) => !this.lastCandidates.has(id));
    this.lastCandidates = new Set(work.candidates);
    this.lastStatus = work.working ? { kind: "WORKING", footprint: work.footprint, newWork } : { kind: "IDLE" };
    return this.lastStatus;
  }

  async offers(offers: readonly Offer[]): Promise<OfferResult> {
    const operations = new Map<string, Operation[]>();
    if (this.unreconciled.size > 0) return { ready: false, unplaced: 0, operations };
    await giveUpUnreachable(this.internals, this.deps.replaceUnreachableAfterMs ?? 0);
    if (offers.length === 0 && !this.stale && this.quietAnswer) return this.quietAnswer;
    const d = this.decide(offers);
    const add = (offerId: string, ops: readonly Operation[]): void => {
      operations.set(offerId, [...(operations.get(offerId) ?? []), ...ops]);
    };
    for (const l of d.launches) add(l.offerId, l.operations);
    for (const r of d.releases) add(r.offerId, r.operations);
    const launches = prepareLaunches(
      {
        tasks: this.tasks,
        slots: this.slots,
        store: this.deps.store,
        step: (id) => findStep(this.plans, id),
        launched: (byOffer) => {
          this.touch();
          this.launchedOn = byOffer;
        },
      },
      d,
    );
    return { ready: true, unplaced: d.unplaced.length, operations, ...(launches ? { launches } : {}), ...(d.kills.length > 0 ? { kills: d.kills } : {}) };
  }

  unexpectedResources(resources: readonly Resource[]): Resource[] {
    return unownedReservations(this.tasks.values(), resources);
  }

  /**
   * First half of a status update: what to store for it, or "unknown" (the caller should kill
   * the task). Changes nothing, so many statuses can be stored in one multi and applied after.
   */
  prepareStatus(status: TaskStatus): PreparedStatus | "unknown" {
    return prepareServiceStatus(this, this.internals, status);
  }

  acceptRefused(offerId: string, reason: string): void {
    launchRefused(this.plans, this.launchedOn.get(offerId) ?? [], reason);
    this.launchedOn.delete(offerId);
    this.touch();
  }

  cycleFailed(error: string): void {
    cycleFailedOn(this.plans, error);
    this.touch();
  }
}
