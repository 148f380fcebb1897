/**
 * What the decision core of one service is given (its state) and what it returns (its
 * decisions). Plain data: the engine holds the state, calls `decideService` (or
 * `decideRemoval`), and applies the decisions through its ports.
 */
import type { Operation, TaskInfo } from "../cluster.js";
import type { BackoffState } from "../plan/backoff.js";
import type { RecoveryDecision } from "../plan/recovery.js";
import type { ServiceSpec } from "../spec/types.js";
import type { ServicePlans } from "./plans.js";
import type { StoredTask, TaskSlot } from "./task-record.js";

/** The framework a service's reservations and tasks are made for. */
export interface FrameworkIdentity {
  readonly name: string;
  readonly role: string;
  readonly principal: string;
  /**
   * A mono scheduler (`--mode mono`): its one service's reservations carry no `namespace`
   * label, as the reference's mono schedulers write them (§2.2). @default false
   */
  readonly mono?: boolean;
}

/** One running service as the decision core sees it. */
export interface ServiceState {
  readonly name: string;
  readonly sanitizedName: string;
  readonly spec: ServiceSpec;
  /** `taskSlots(spec)`, kept by the caller so it is not rebuilt on every call. */
  readonly slots: ReadonlyMap<string, TaskSlot>;
  /** The target config's id: what every task should run. */
  readonly configId: string;
  readonly plans: ServicePlans;
  /** Task records by task instance name (`hello-0-server`). */
  readonly tasks: ReadonlyMap<string, StoredTask>;
  /** Task IDs whose reconciliation answer has not come: no offer is used until none is left. */
  readonly unreconciled: ReadonlySet<string>;
  readonly backoff: BackoffState;
  /** Paused pod instances (`hello-0`): their tasks launch with the idle command (`pause.ts`). */
  readonly paused?: ReadonlySet<string>;
  /** "" before registration. */
  readonly frameworkId: string;
  readonly framework: FrameworkIdentity;
  /**
   * Set while the deployment limit keeps this service from acquiring resources (it is offered
   * only its own reservations): why, shown on its deploy steps that wait.
   */
  readonly deploySlotWait?: string;
}

/** Launch tasks on one offer: RESERVE/CREATE/UNRESERVE as needed, then LAUNCH_GROUP. */
export interface LaunchDecision {
  readonly offerId: string;
  readonly operations: readonly Operation[];
  readonly tasks: readonly TaskInfo[];
  readonly stepId: string;
  /** Task instances relaunched on reservations their previous, confirmed record already held. */
  readonly inPlace: readonly string[];
}

export interface KillDecision {
  readonly taskId: string;
  readonly agentId?: string;
  readonly reason: string;
}

/** Give reservations back on one offer: DESTROY the volumes among them, then UNRESERVE. */
export interface ReleaseDecision {
  readonly offerId: string;
  readonly operations: readonly Operation[];
  readonly resourceIds: readonly string[];
  /** The decommission steps it completes once its record is stored. */
  readonly stepIds: readonly string[];
}

/** Erase the records of decommissioned task instances. */
export interface EraseDecision {
  readonly tasks: readonly string[];
  readonly stepIds: readonly string[];
}

export interface UnplacedStep {
  readonly stepId: string;
  readonly reason: string;
}

/** A working service, or one that needs nothing from offers (§1.1). */
export interface ServiceWork {
  readonly working: boolean;
  /**
   * The deploy plan is unfinished and acquiring (`deploy-slot.ts`): this service wants
   * reservations, so it needs a deploy slot under the deployment limit.
   */
  readonly footprint: boolean;
  /** Ids of the steps that want an offer now (not those waiting for their old tasks to stop). */
  readonly candidates: readonly string[];
}

export interface ServiceDecisions {
  /** The plans after this decision: back-off released, recovery steps, unplaced steps prepared. */
  readonly plans: ServicePlans;
  readonly backoff: BackoffState;
  readonly launches: readonly LaunchDecision[];
  readonly kills: readonly KillDecision[];
  readonly releases: readonly ReleaseDecision[];
  readonly erases: readonly EraseDecision[];
  readonly unplaced: readonly UnplacedStep[];
  /** New recoveries decided (one per pod instance), for the log. */
  readonly recoveries: readonly RecoveryDecision[];
  /** A dead task waits because its pod instance is being worked on: decide again later. */
  readonly recoveryDeferred: boolean;
  readonly work: ServiceWork;
}
