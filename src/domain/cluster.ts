/**
 * Cluster vocabulary shaped like the Mesos v1 scheduler API (mesos-v1-api.md §6–§12), so that
 * the local, simulated and Mesos drivers all speak it without translation in the engine.
 * Field names follow the Mesos JSON, camelCased.
 */

/** Mesos task states. "Dead" = anything but STAGING/STARTING/RUNNING/KILLING. */
export type TaskState =
  | "TASK_STAGING"
  | "TASK_STARTING"
  | "TASK_RUNNING"
  | "TASK_KILLING"
  | "TASK_FINISHED"
  | "TASK_FAILED"
  | "TASK_KILLED"
  | "TASK_ERROR"
  | "TASK_LOST"
  | "TASK_DROPPED"
  | "TASK_UNREACHABLE"
  | "TASK_GONE"
  | "TASK_GONE_BY_OPERATOR"
  | "TASK_UNKNOWN";

const LIVE_STATES: ReadonlySet<TaskState> = new Set([
  "TASK_STAGING",
  "TASK_STARTING",
  "TASK_RUNNING",
  "TASK_KILLING",
]);

/** True for every state after which the task will never run again. */
export function isTerminal(state: TaskState): boolean {
  return !LIVE_STATES.has(state);
}

export interface Range {
  readonly begin: number;
  readonly end: number;
}

/** A dynamic reservation; `labels` carry resource_id, framework_id and namespace (§2.2). */
export interface Reservation {
  readonly type: "DYNAMIC" | "STATIC";
  readonly role: string;
  readonly principal?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface DiskInfo {
  readonly persistence?: { readonly id: string; readonly principal?: string };
  readonly volume?: { readonly containerPath: string; readonly mode: "RW" | "RO" };
}

export interface Resource {
  /** cpus, mem (MB), disk (MB), gpus, ports. */
  readonly name: string;
  readonly type: "SCALAR" | "RANGES";
  readonly scalar?: number;
  readonly ranges?: readonly Range[];
  /** Refinement stack; the last one is the effective reservation. Absent = unreserved. */
  readonly reservations?: readonly Reservation[];
  readonly disk?: DiskInfo;
}

export interface Offer {
  readonly id: string;
  readonly frameworkId: string;
  readonly agentId: string;
  readonly hostname: string;
  readonly resources: readonly Resource[];
  readonly attributes?: Readonly<Record<string, string>>;
}

export interface CommandInfo {
  /** Run with `/bin/sh -c`. */
  readonly value: string;
  readonly environment: Readonly<Record<string, string>>;
  readonly user?: string;
}

/** A command check with its timing (Mesos HealthCheck / CheckInfo, seconds). */
export interface CommandCheck {
  readonly command: string;
  readonly intervalS: number;
  readonly timeoutS: number;
  readonly delayS: number;
  readonly gracePeriodS: number;
  readonly consecutiveFailures: number;
}

export interface TaskInfo {
  readonly name: string;
  readonly taskId: string;
  readonly agentId: string;
  readonly resources: readonly Resource[];
  readonly command: CommandInfo;
  readonly labels: Readonly<Record<string, string>>;
  readonly healthCheck?: CommandCheck;
  /** Readiness check (Mesos `check`): RUNNING-goal steps complete only once it passes. */
  readonly check?: CommandCheck;
  readonly killGracePeriodS?: number;
}

export interface ExecutorInfo {
  readonly executorId: string;
  readonly frameworkId: string;
  readonly resources: readonly Resource[];
  readonly labels: Readonly<Record<string, string>>;
}

export type Operation =
  | { readonly type: "RESERVE"; readonly resources: readonly Resource[] }
  | { readonly type: "UNRESERVE"; readonly resources: readonly Resource[] }
  | { readonly type: "CREATE"; readonly volumes: readonly Resource[] }
  | { readonly type: "DESTROY"; readonly volumes: readonly Resource[] }
  | {
      readonly type: "LAUNCH_GROUP";
      readonly executor: ExecutorInfo;
      readonly tasks: readonly TaskInfo[];
    };

export interface Filters {
  /** How long the declined resources stay away; Mesos default 5 s. */
  readonly refuseSeconds: number;
}

export interface TaskStatus {
  readonly taskId: string;
  readonly state: TaskState;
  readonly agentId?: string;
  /** Present when the update must be acknowledged (at-least-once delivery). */
  readonly uuid?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly source?: "SOURCE_MASTER" | "SOURCE_AGENT" | "SOURCE_EXECUTOR";
  readonly healthy?: boolean;
  /** Result of the readiness check, when one ran. */
  readonly checkStatus?: { readonly exitCode?: number };
  readonly labels?: Readonly<Record<string, string>>;
  readonly timestampMs: number;
}

/** Reservation label keys (§2.2). */
export const LABEL_RESOURCE_ID = "resource_id";
export const LABEL_FRAMEWORK_ID = "framework_id";
export const LABEL_NAMESPACE = "namespace";
/** TaskInfo label holding the target config id the task was launched with. */
export const LABEL_TARGET_CONFIG = "target_configuration";
/** TaskStatus label set by the executor when the readiness check passed. */
export const LABEL_READINESS_PASSED = "readiness_check_passed";
