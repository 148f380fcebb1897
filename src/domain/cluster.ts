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

/** A dynamic reservation; `labels` carry resource_id, framework_id and namespace (§2.2; a mono scheduler's carry no namespace: `reservation-owner.ts`). */
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

/** Mesos CommandInfo.URI: fetched into the sandbox before the task starts. */
export interface CommandUri {
  /** `http(s)://…`, `file://…` or an absolute path. */
  readonly value: string;
  /** chmod +x the fetched file (and never extract it). @default false */
  readonly executable?: boolean;
  /** Unpack archives (.tar, .tar.gz/.tgz, .tar.bz2, .tar.xz, .zip, .gz). @default true */
  readonly extract?: boolean;
  readonly cache?: boolean;
  /** File name in the sandbox; default: the URI's last path segment. */
  readonly outputFile?: string;
}

/** Mesos Secret of type REFERENCE: resolved by the agent, never carried as a value. */
export interface SecretRef {
  readonly name: string;
  readonly key?: string;
}

export interface CommandInfo {
  /** Run with `/bin/sh -c`. */
  readonly value: string;
  readonly environment: Readonly<Record<string, string>>;
  /** Environment variables whose value is a secret (Mesos Environment.Variable type SECRET). */
  readonly secretEnvironment?: Readonly<Record<string, SecretRef>>;
  readonly user?: string;
  readonly uris?: readonly CommandUri[];
}

/** Mesos Volume.Source, the kinds Corral uses. */
export type VolumeSource =
  /** A directory of the agent host (`host-volumes`). */
  | { readonly type: "HOST_PATH"; readonly hostPath: { readonly path: string } }
  /** A path in the executor's sandbox (PARENT): how tasks share pod-level volumes. */
  | { readonly type: "SANDBOX_PATH"; readonly sandboxPath: { readonly type: "PARENT" | "SELF"; readonly path: string } }
  /** A secret as a file (`secrets.<k>.file`). */
  | { readonly type: "SECRET"; readonly secret: SecretRef };

export interface ContainerVolume {
  /** Relative: in the sandbox; absolute: in the container's root (needs an image). */
  readonly containerPath: string;
  readonly mode: "RW" | "RO";
  readonly source: VolumeSource;
}

/** Mesos NetworkInfo: a CNI network by name, with its port mappings. */
export interface NetworkInfo {
  readonly name: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly portMappings?: readonly { readonly hostPort: number; readonly containerPort: number; readonly protocol?: string }[];
}

/** Mesos RLimitInfo.RLimit: `type` is Mesos' enum name (RLMT_NOFILE); absent soft and hard = unlimited. */
export interface Rlimit {
  readonly type: string;
  readonly soft?: number;
  readonly hard?: number;
}

/** Mesos LinuxInfo, the fields Corral sets. */
export interface LinuxInfo {
  readonly sharePidNamespace?: boolean;
  readonly seccomp?: { readonly unconfined: boolean; readonly profileName?: string };
  readonly ipcMode?: "PRIVATE" | "SHARE_PARENT";
  /** MB, as Mesos has it. */
  readonly shmSize?: number;
}

/** Mesos ContainerInfo (type MESOS): what a task's container is besides its command. */
export interface ContainerInfo {
  readonly type: "MESOS";
  /** Docker image name run by the Mesos containerizer (Image type DOCKER). */
  readonly image?: string;
  readonly volumes?: readonly ContainerVolume[];
  readonly networkInfos?: readonly NetworkInfo[];
  readonly linuxInfo?: LinuxInfo;
  readonly rlimitInfo?: { readonly rlimits: readonly Rlimit[] };
}

/** Mesos DiscoveryInfo: how the task is found (`discovery`, advertised ports, VIPs). */
export interface DiscoveryInfo {
  readonly visibility: "FRAMEWORK" | "CLUSTER" | "EXTERNAL";
  readonly name?: string;
  readonly ports?: readonly {
    readonly number: number;
    readonly name?: string;
    readonly protocol: string;
    readonly visibility?: "FRAMEWORK" | "CLUSTER" | "EXTERNAL";
    /** `VIP_<uuid>`: `<prefix>:<port>` for a VIP. */
    readonly labels?: Readonly<Record<string, string>>;
  }[];
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
  readonly container?: ContainerInfo;
  readonly discovery?: DiscoveryInfo;
  /** Mesos TaskInfo.limits (`resource-limits`); Infinity = unlimited. */
  readonly limits?: { readonly cpus?: number; readonly mem?: number };
  /**
   * The executor the task was launched in. Stored with the task, not sent inside a
   * LAUNCH_GROUP's TaskInfo (the operation carries the executor): a relaunch of one task while
   * its pod's other tasks run goes into this same executor, which holds the pod's volumes.
   */
  readonly executor?: ExecutorInfo;
}

export interface ExecutorInfo {
  readonly executorId: string;
  readonly frameworkId: string;
  /** Its own share (EXECUTOR_RESOURCES) and the pod-level volumes, reserved. */
  readonly resources: readonly Resource[];
  readonly labels: Readonly<Record<string, string>>;
  /** Pod-wide container settings (shared PID namespace, networks). */
  readonly container?: ContainerInfo;
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

/**
 * A JSON.parse reviver for stored TaskInfos: JSON has no Infinity, so an unlimited
 * `limits.cpus` / `limits.mem` is written as null; read back, null is unlimited again.
 */
export function reviveUnlimited(key: string, value: unknown): unknown {
  if (key !== "limits" || value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const limits = value as Record<string, unknown>;
  for (const k of Object.keys(limits)) if (limits[k] === null) limits[k] = Infinity;
  return limits;
}

/** Reservation label keys (§2.2). */
export const LABEL_RESOURCE_ID = "resource_id";
export const LABEL_FRAMEWORK_ID = "framework_id";
export const LABEL_NAMESPACE = "namespace";
/** TaskInfo label holding the target config id the task was launched with. */
export const LABEL_TARGET_CONFIG = "target_configuration";
/** TaskStatus label set by the executor when the readiness check passed. */
export const LABEL_READINESS_PASSED = "readiness_check_passed";
