/**
 * What the gRPC edge (and in-process callers) can ask of the scheduler. Views are plain data;
 * the gRPC adapter maps them to `corral.v1` messages. Errors are SchedulerErrors.
 */
import type { FieldViolation } from "../domain/errors.js";
import type { Status } from "../domain/plan/status.js";
import type { SpecWarning, StrategyName } from "../domain/spec/types.js";
import type { SecretStore } from "./ports.js";

export type ServiceState = "DEPLOYING" | "RUNNING" | "ERROR" | "UNINSTALLING" | "QUARANTINED";

export interface PlanSummaryView {
  readonly name: string;
  readonly status: Status;
  readonly stepsComplete: number;
  readonly stepsTotal: number;
}

export interface ServiceView {
  readonly name: string;
  readonly state: ServiceState;
  readonly configId: string;
  readonly generation: number;
  readonly plans: readonly PlanSummaryView[];
  readonly error?: string;
  readonly createdMs: number;
  readonly updatedMs: number;
  /** While UNINSTALLING: the removal under way (the sequence of its STARTED event). */
  readonly removalId?: bigint;
}

/**
 * What metrics read of the running scheduler, in one pass without building views (at 5,000
 * services building the views made a scrape take ~15 ms more).
 */
export interface SchedulerFigures {
  /** Services by state; a state no service is in is absent. */
  readonly services: ReadonlyMap<ServiceState, number>;
  /** Each plan of each service, flat: service, plan, status, service, plan, status, … */
  readonly plans: readonly string[];
  /** The steps of every plan of every service, by status as GetPlan shows it. */
  readonly steps: ReadonlyMap<Status, number>;
}

export interface StepView {
  readonly id: string;
  readonly name: string;
  readonly status: Status;
  readonly message: string;
  readonly taskIds: readonly string[];
}

export interface PhaseView {
  readonly id: string;
  readonly name: string;
  readonly status: Status;
  readonly strategy: StrategyName;
  readonly steps: readonly StepView[];
}

export interface PlanView {
  readonly name: string;
  readonly status: Status;
  readonly strategy: StrategyName;
  readonly phases: readonly PhaseView[];
  readonly errors: readonly string[];
}

export type PutOutcome = "CREATED" | "UNCHANGED" | "UPDATED";

export interface PutServiceInput {
  readonly name: string;
  readonly spec: string;
  readonly parameters: Readonly<Record<string, string>>;
  /**
   * Optimistic concurrency: the put goes ahead only when the service's generation is this one
   * (0: the service must not exist); otherwise ABORTED and nothing changes. Absent: no check.
   */
  readonly expectedGeneration?: number;
  /** Work out and return what the put would do (`change`), store nothing, run nothing. */
  readonly dryRun?: boolean;
}

/** What a put changes in a running service (or would change, on a dry run). */
export interface ServiceChangeView {
  /** Pod instances killed and relaunched in place on their reservations (`hello-0`). */
  readonly relaunched: readonly string[];
  /** Pod instances added (a count raised, a pod added). */
  readonly added: readonly string[];
  /** Pod instances decommissioned: killed, volumes destroyed, unreserved. */
  readonly decommissioned: readonly string[];
  /** The plan the change runs (`deploy`, or the spec's `update` plan), as it starts. */
  readonly plan?: PlanView;
  /** Why the change is refused (a dry run reports them here instead of failing). */
  readonly violations: readonly FieldViolation[];
}

export interface PutServiceResult {
  readonly service: ServiceView;
  readonly outcome: PutOutcome;
  readonly warnings: readonly SpecWarning[];
  /** Set for an update (and for any dry run): what changes. */
  readonly change?: ServiceChangeView;
  /** The put was a dry run: nothing was stored. */
  readonly dryRun?: boolean;
}

export type UninstallEventKind = "STARTED" | "PROGRESS" | "COMPLETED" | "FORCED";

export interface UninstallEventView {
  readonly sequence: bigint;
  /**
   * The removal this event belongs to: the sequence number of its STARTED event. The event log
   * always sets it (0 when unknown: an event stored before removal ids whose STARTED is no longer
   * retained); optional so that other AdminApi implementations need not.
   */
  readonly removalId?: bigint;
  readonly name: string;
  readonly kind: UninstallEventKind;
  readonly timeMs: number;
  readonly stepsComplete: number;
  readonly stepsTotal: number;
  readonly leftovers: readonly string[];
  readonly message: string;
}

export type SchedulerState = "RUNNING" | "UNINSTALLING" | "UNINSTALLED";

/**
 * Where the scheduler's services come from (the seed's three modes): the admin API (`dynamic`),
 * a fixed set of spec files re-put on every start (`static`), or one spec file whose service is
 * named like the framework, stored in the schema-1 layout (`mono`).
 */
export type ServiceMode = "dynamic" | "static" | "mono";

/** The store layout's schema version (dcos-commons §2.4): 1 = mono, 2 = multi. */
export type SchemaVersion = 1 | 2;

export interface SchedulerView {
  readonly state: SchedulerState;
  readonly serviceMode: ServiceMode;
  readonly schemaVersion: SchemaVersion;
  readonly services: number;
  readonly uninstalling: number;
  readonly lastUninstallEvent: bigint;
}

/** One task of a service, from its task record and, where the cluster serves files, its agent. */
export interface TaskView {
  readonly id: string;
  /** The task instance name (`hello-0-server`). */
  readonly name: string;
  readonly podType: string;
  readonly podIndex: number;
  /** The last state the cluster reported, as Mesos names it (`TASK_RUNNING`); "" when none. */
  readonly state: string;
  /** The task's process id on its agent; 0 when unknown. */
  readonly pid: number;
  readonly agentId: string;
  /** The sandbox directory on the agent; "" when unknown. */
  readonly sandbox: string;
  /** The message of the last status update (or its reason when it has none). */
  readonly message: string;
  /** When the last status update was sent; undefined when there is none. */
  readonly updatedMs?: number;
}

export type TaskLogFile = "STDOUT" | "STDERR";

export interface TaskLogInput {
  readonly name: string;
  /** A task instance name (its latest task) or a task ID. */
  readonly task: string;
  readonly file: TaskLogFile;
  /** Start at this byte offset; ignored when `tailLines` > 0. Past the end: start at the end. */
  readonly offset: bigint;
  /** Start at the last N lines; 0 uses `offset`. */
  readonly tailLines: number;
  /** Keep sending what is appended until the task has ended or its sandbox is removed. */
  readonly follow: boolean;
}

/** Bytes of a task file, in order; at most TASK_LOG_CHUNK_BYTES each. */
export interface TaskLogChunk {
  readonly taskId: string;
  /** The file offset of `data[0]`. */
  readonly offset: number;
  readonly data: Uint8Array;
}

/** What `controlPlan` does to a plan, a phase or a step (dcos-commons §1.10). */
export type PlanAction = "START" | "STOP" | "INTERRUPT" | "CONTINUE" | "FORCE_COMPLETE" | "RESTART";

export interface PlanControlInput {
  readonly name: string;
  readonly plan: string;
  readonly action: PlanAction;
  /** A phase of the plan, by name or id; "" = the whole plan. */
  readonly phase: string;
  /** A step of the phase, by name or id; "" = the whole phase. Needs `phase`. */
  readonly step: string;
  /** START only: environment for the tasks the plan launches. */
  readonly parameters: Readonly<Record<string, string>>;
}

export interface PlanControlResult {
  readonly plan: PlanView;
  /** False when the element already was in the state asked for (the reference's 208). */
  readonly changed: boolean;
}

/** A reservation a pod instance holds. */
export interface ReservationView {
  readonly resourceId: string;
  /** cpus, mem, disk, gpus, ports. */
  readonly resource: string;
  /** `0.5`, `256`, `31000-31001`. */
  readonly value: string;
  readonly persistenceId: string;
  readonly containerPath: string;
}

/** One pod instance of a service. */
export interface PodView {
  /** `hello-0`. */
  readonly name: string;
  readonly podType: string;
  readonly podIndex: number;
  readonly tasks: readonly TaskView[];
  readonly reservations: readonly ReservationView[];
  readonly paused: boolean;
  readonly permanentlyFailed: boolean;
  readonly agentId: string;
  readonly hostname: string;
}

export type PodAction = "RESTART" | "REPLACE" | "PAUSE" | "RESUME";

export interface PodControlInput {
  readonly name: string;
  /** The pod instance, `world-0`. */
  readonly pod: string;
  readonly action: PodAction;
}

export interface PodControlResult {
  readonly pod: PodView;
  /** Task IDs killed by the action. */
  readonly killed: readonly string[];
  /** False when the pod already was in the state asked for. */
  readonly changed: boolean;
}

/** A plan, phase or step changed (status, message or task IDs). */
export interface PlanEventView {
  readonly sequence: bigint;
  /** The service. */
  readonly name: string;
  readonly generation: number;
  readonly plan: string;
  /** "" for the plan's own change. */
  readonly phase: string;
  /** "" for a plan's or phase's own change. */
  readonly step: string;
  readonly stepId: string;
  readonly status: Status;
  readonly message: string;
  readonly taskIds: readonly string[];
  readonly timeMs: number;
  /** The plan's status after the change. */
  readonly planStatus: Status;
}

/**
 * One named endpoint of a service, as dcos-commons' /endpoints/<name> answers it: one per
 * advertised port name or VIP. The engine's ServiceEndpoint (service-endpoints.ts) has this shape.
 */
export interface EndpointView {
  /** The port name (or the VIP's port name). */
  readonly name: string;
  /** `host:port` of each RUNNING task with the port. */
  readonly addresses: readonly string[];
  /** `<task>.<service>.autoip.dcos.thisdcos.directory:port` of each RUNNING task. */
  readonly dns: readonly string[];
  /** `<prefix>.<service>.l4lb.thisdcos.directory:<port>` when the port has a VIP. */
  readonly vip?: string;
}

/**
 * Where the secret RPCs go: the store tasks of this cluster read (the local agent's
 * `<agent-dir>/secrets`), or why this cluster keeps none here (answered FAILED_PRECONDITION).
 */
export type SecretsAccess = { readonly store: SecretStore } | { readonly unavailable: string };

export interface AdminApi {
  putService(input: PutServiceInput): Promise<PutServiceResult>;
  uninstallService(name: string): Promise<ServiceView>;
  /** Ends when every named service completed removal, or when `signal` aborts. */
  watchUninstall(
    names: readonly string[],
    after: bigint,
    signal: AbortSignal,
  ): AsyncIterable<UninstallEventView>;
  listServices(): readonly ServiceView[];
  getService(name: string): ServiceView;
  /** `plan` "" is "deploy", or "uninstall" for a service being removed. */
  getPlan(name: string, plan: string): PlanView;
  getScheduler(): SchedulerView;
  // Optional so that AdminApi implementations older than them (test fakes, benchmarks) still
  // compile; the gRPC edge answers UNIMPLEMENTED for a missing one. MultiServiceScheduler has both.
  /** The tasks of a service, sorted by task name. */
  listTasks?(name: string): Promise<readonly TaskView[]>;
  /**
   * A task's stdout or stderr. The first chunk always comes (it may be empty: it names the task
   * ID); without `follow` the stream ends at the end of the file. Ends early when `signal` aborts.
   */
  taskLog?(input: TaskLogInput, signal: AbortSignal): AsyncIterable<TaskLogChunk>;
  /** Every plan of a service: deploy, custom plans, recovery, decommission. */
  listPlans?(name: string): readonly PlanView[];
  /** Acts on a plan, phase or step; the override is stored before it is answered. */
  controlPlan?(input: PlanControlInput): Promise<PlanControlResult>;
  /** The pod instances of a service, sorted by type then index. */
  listPods?(name: string): Promise<readonly PodView[]>;
  /** Restarts, replaces, pauses or resumes a pod instance; stored before it is answered. */
  controlPod?(input: PodControlInput): Promise<PodControlResult>;
  /** Plan changes after `after`; empty `names` = every service. Ends when `signal` aborts. */
  watchPlans?(names: readonly string[], after: bigint, signal: AbortSignal): AsyncIterable<PlanEventView>;
  /**
   * The endpoints of a service (one per advertised port name or VIP, sorted by name) with the
   * addresses of its running tasks; `portName` given: a list of exactly that one.
   * @throws SchedulerError not_found for an unknown service or port name, invalid_argument (field
   * `name`) for a bad service name.
   */
  getEndpoints?(name: string, portName?: string): Promise<readonly EndpointView[]>;
}
