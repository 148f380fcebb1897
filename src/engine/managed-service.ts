/**
 * What the manager holds for a name, whatever the service is doing (deploying, running, being
 * reconfigured, being removed). The scheduler, the event client and the runner talk to services
 * only through this interface and never ask which kind a service is: each kind is a thin applier
 * of the decisions of the pure decision core (src/domain/service).
 */
import type { Offer, Operation, Resource, TaskInfo, TaskStatus } from "../domain/cluster.js";
import type { Plan } from "../domain/plan/model.js";
import type { PersisterOp } from "./ports.js";
import type { PlanControlInput, PlanControlResult, PodAction, ReservationView, ServiceChangeView, ServiceView } from "./admin-api.js";
import type { BuiltService, ServiceContext } from "./service-context.js";

/** What a service needs from offers now (§1.1 ClientStatusResponse). */
export type ClientStatus =
  | { readonly kind: "WORKING"; readonly footprint: boolean; readonly newWork: boolean }
  | { readonly kind: "IDLE" };

/** A task to kill, and why (logged). */
export interface KillDecision {
  readonly taskId: string;
  readonly agentId?: string;
  readonly reason: string;
}

export interface PreparedLaunches {
  /**
   * What this cycle's decisions write — TaskInfos launched, records whose released reservations
   * are pruned, decommissioned records erased — stored (in one multi with other services') before
   * any operation leaves.
   */
  readonly ops: readonly PersisterOp[];
  /** Once `ops` are stored: record the launches. Left unstored, the operations must not be sent. */
  apply(): void;
}

export interface OfferResult {
  /** False while reconciliation is unfinished: unused offers are then declined short. */
  readonly ready: boolean;
  /** Candidate steps no offer could take: unused offers are then declined short, to come back soon. */
  readonly unplaced: number;
  /** Operations by offer ID. */
  readonly operations: ReadonlyMap<string, Operation[]>;
  readonly launches?: PreparedLaunches;
  /** Tasks to kill (reconfiguration, decommission, removal); sent whether or not offers came. */
  readonly kills?: readonly KillDecision[];
}

/** A status checked against its service's tasks, with the ops that store it; `apply` once stored. */
export interface PreparedStatus {
  readonly service: ManagedService;
  readonly status: TaskStatus;
  readonly ops: readonly PersisterOp[];
  apply(): "processed" | "unknown";
}

/** What a put of a new spec for a running service does (`ManagedService.prepareUpdate`). */
export interface UpdateOutcome {
  /** What changes; `violations` non-empty when the change is refused. */
  readonly change: ServiceChangeView;
  /** The put changes nothing (the same rendered spec, or only what needs no redeploy and no store write). */
  readonly unchanged: boolean;
  /**
   * For an accepted change that is not a dry run: the writes (context, new config, target,
   * relabelled tasks, configs no task references any more), stored in one fenced multi, then
   * `commit()` gives the service that replaces this one in the manager (and is registered).
   */
  readonly ops?: readonly PersisterOp[];
  commit?(): ManagedService;
}

/**
 * An operator's action on one service (plan or pod control), checked against its state and
 * changing nothing yet: `ops` are stored (fenced), then `apply()` changes the service and
 * `kills` are sent. Refused actions throw (invalid_argument, not_found, failed_precondition).
 */
export interface PreparedControl<R> {
  readonly ops: readonly PersisterOp[];
  readonly kills: readonly KillDecision[];
  apply(): R;
}

/** What a pod control did (the façade adds the pod's view). */
export interface PodControlOutcome {
  readonly changed: boolean;
  readonly killed: readonly string[];
}

/** One pod instance as the service knows it (ListPods adds what the cluster says of its tasks). */
export interface PodState {
  readonly podType: string;
  readonly podIndex: number;
  readonly paused: boolean;
  readonly permanentlyFailed: boolean;
  readonly reservations: readonly ReservationView[];
  readonly agentId: string;
  readonly hostname: string;
}

export interface ManagedService {
  readonly name: string;
  readonly sanitizedName: string;
  /** The target config's id ("" when unknown). */
  readonly configId: string;
  /** The stored context (name, spec, parameters, generation); undefined when it was never readable. */
  readonly context: ServiceContext | undefined;
  /** The plan GetPlan shows when none is named (`deploy`, or `uninstall` while being removed). */
  readonly defaultPlan: string;
  /** Being removed: a put is refused until the removal completed, an uninstall answers the removal under way. */
  readonly removing: boolean;
  /**
   * Validates `built` (the same name, a new context with the next generation) against the
   * current target (§1.13) and works out the change; stores nothing. `configId` is the id the
   * new config gets. A service being removed throws failed_precondition.
   */
  prepareUpdate(built: BuiltService, configId: string, options: { readonly dryRun: boolean }): UpdateOutcome;
  allPlans(): readonly Plan[];
  /**
   * Set by plan-events.ts on services whose plans change as they work: called whenever the plans
   * may have changed, so that only those are diffed after a unit of work.
   */
  planChanged?: (() => void) | undefined;
  /** The admin API's view of the service. */
  view(): ServiceView;
  /** The cluster (re)registered the framework: tasks to reconcile explicitly, and tasks to kill. */
  registered(frameworkId: string): { reconcile: TaskInfo[]; kill: TaskInfo[] };
  /** Tasks whose reconciliation answer is still missing. */
  pendingReconciliation(): TaskInfo[];
  status(): ClientStatus;
  /** One offer cycle's decisions for this service, applied; `offers` may be empty. */
  offers(offers: readonly Offer[]): Promise<OfferResult>;
  /** Reserved resources in these offers (this service's, `reservation-owner.ts`) that it does not own. */
  unexpectedResources(resources: readonly Resource[]): Resource[];
  /**
   * Told by the event client before its offers: whether it is the framework's default service
   * (§1.3), which owns our reservations without a namespace label. Absent: the service knows
   * its framework and judges for itself.
   */
  defaultService?(isDefault: boolean): void;
  prepareStatus(status: TaskStatus): PreparedStatus | "unknown";
  /**
   * The cluster refused the ACCEPT of an offer this service launched on: its launches there did
   * not happen. The service shows `reason` on the steps concerned and retries them later.
   */
  acceptRefused(offerId: string, reason: string): void;
  /**
   * This service's part of an offer cycle threw: nothing of it was applied. The service shows
   * the error in its plan (until a later cycle of it succeeds) and is retried next cycle.
   */
  cycleFailed(error: string): void;
  /**
   * The deployment limit (`deploy-limit.ts`): why this service may not acquire resources now
   * (it is offered only its own reservations; its waiting deploy steps say why), or undefined.
   * Absent: the service never wants footprint.
   */
  deploySlot?(waiting: string | undefined): void;
  /** Plan control (§1.10): start/stop/interrupt/continue/force-complete/restart. */
  controlPlan(input: PlanControlInput): PreparedControl<PlanControlResult>;
  /** Pod control (§1.10, §3.6): restart, replace, pause, resume one pod instance (`world-0`). */
  controlPod(pod: string, action: PodAction): PreparedControl<PodControlOutcome>;
  /** The pod instances the spec has, and those stored tasks still hold, sorted by type then index. */
  pods(): readonly PodState[];
}
