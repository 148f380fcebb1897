/**
 * ServiceSpec: the validated, normalised form of a service's YAML (dcos-commons §4).
 * Everything here is plain readonly data; `parseServiceSpec` builds it. Keys added after the
 * first release are optional (absent = the key's default: empty, false) so older stored
 * specs and hand-built test specs stay valid.
 */
import type { PlacementSpec } from "./placement.js";

/** Goal state of a task: keep RUNNING, run to a zero exit on each config (FINISH), or ONCE ever. */
export type GoalState = "RUNNING" | "FINISH" | "ONCE";

export type StrategyName =
  | "serial"
  | "parallel"
  | "canary"
  | "serial-canary"
  | "parallel-canary"
  | "dependency";

/** An inclusive port range (`ranges: [{begin, end}]`). */
export interface PortRangeSpec {
  readonly begin: number;
  readonly end: number;
}

/** `vip: {port, prefix}`: a named virtual IP for the port (DiscoveryInfo label `VIP_<n>`). */
export interface VipSpec {
  readonly prefix: string;
  readonly port: number;
  /** @default "tcp" */
  readonly protocol: "tcp" | "udp";
}

export interface PortSpec {
  readonly name: string;
  /** 0 = any free port from the offer (within `ranges` when given). */
  readonly port: number;
  /** Environment variable for the assigned port; default `PORT_<NAME>`. */
  readonly envKey: string;
  /** Listed in the task's DiscoveryInfo and by GetEndpoints (`advertise: true`). */
  readonly advertise?: boolean;
  readonly vip?: VipSpec;
  /** Where a dynamic port may be chosen; empty: anywhere offered. */
  readonly ranges?: readonly PortRangeSpec[];
}

export interface VolumeSpec {
  /** Container path, relative to the task's sandbox. */
  readonly path: string;
  readonly type: "ROOT" | "MOUNT";
  readonly sizeMb: number;
  /** Disk profiles (`profiles:`), for MOUNT volumes from CSI; empty: none asked for. */
  readonly profiles?: readonly string[];
}

/**
 * `resource-limits: {cpus, memory}`: the most the task may use beyond its reservation
 * (Mesos TaskInfo.limits). `Infinity` = `unlimited`.
 */
export interface ResourceLimitsSpec {
  readonly cpus?: number;
  readonly memoryMb?: number;
}

export interface ResourceSetSpec {
  readonly id: string;
  readonly cpus: number;
  readonly memoryMb: number;
  readonly gpus: number;
  readonly ports: readonly PortSpec[];
  readonly volumes: readonly VolumeSpec[];
  readonly limits?: ResourceLimitsSpec;
}

export interface CheckSpec {
  readonly cmd: string;
  readonly intervalS: number;
  readonly timeoutS: number;
  readonly delayS: number;
  readonly gracePeriodS: number;
  readonly maxConsecutiveFailures: number;
}

export interface TaskSpec {
  readonly name: string;
  readonly goal: GoalState;
  readonly cmd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Id of the pod's resource set this task consumes (inline resources: `<task>-resource-set`). */
  readonly resourceSetId: string;
  readonly essential: boolean;
  readonly killGracePeriodS: number;
  readonly healthCheck?: CheckSpec;
  readonly readinessCheck?: CheckSpec;
  /** `labels: k:v,k2:v2` (or a mapping): TaskInfo labels, beside Corral's own. */
  readonly labels?: Readonly<Record<string, string>>;
  readonly discovery?: DiscoverySpec;
  /**
   * `transport-encryption`: accepted and warned about (no TaskInfo field; §7.1). CUSTOM is
   * custom_tls.yml's artifact kind.
   */
  readonly transportEncryption?: readonly { readonly name: string; readonly type: "TLS" | "KEYSTORE" | "CUSTOM" }[];
  /** Task-level `ipc-mode` / `shm-size` (Mesos LinuxInfo of the task's container). */
  readonly ipcMode?: IpcMode;
  readonly shmSizeMb?: number;
  /** `configs: {<name>: {template, dest}}`: accepted and warned about. */
  readonly configs?: readonly { readonly name: string; readonly template: string; readonly dest: string }[];
}

export type IpcMode = "PRIVATE" | "SHARE_PARENT";

/** `discovery: {prefix, visibility}` → Mesos DiscoveryInfo. */
export interface DiscoverySpec {
  /** DiscoveryInfo name is `<prefix>-<index>`; absent: the task instance name. */
  readonly prefix?: string;
  /** @default "CLUSTER" */
  readonly visibility: "FRAMEWORK" | "CLUSTER" | "EXTERNAL";
}

/** Mesos RLimitInfo names, `RLIMIT_NOFILE` as the spec writes them. */
export type RlimitName =
  | "RLIMIT_AS"
  | "RLIMIT_CORE"
  | "RLIMIT_CPU"
  | "RLIMIT_DATA"
  | "RLIMIT_FSIZE"
  | "RLIMIT_LOCKS"
  | "RLIMIT_MEMLOCK"
  | "RLIMIT_MSGQUEUE"
  | "RLIMIT_NICE"
  | "RLIMIT_NOFILE"
  | "RLIMIT_NPROC"
  | "RLIMIT_RSS"
  | "RLIMIT_RTPRIO"
  | "RLIMIT_RTTIME"
  | "RLIMIT_SIGPENDING"
  | "RLIMIT_STACK";

/** One `rlimits.<NAME>: {soft, hard}`; both absent = unlimited (as Mesos reads it). */
export interface RlimitSpec {
  readonly name: RlimitName;
  readonly soft?: number;
  readonly hard?: number;
}

/** `secrets.<key>: {secret, env-key, file}`: a secret store path, exposed as env and/or file. */
export interface SecretSpec {
  /** The key under `secrets:`. */
  readonly key: string;
  /** The secret's name in the store (`hello-world/secret1`). */
  readonly secret: string;
  readonly envKey?: string;
  /** Path relative to the sandbox where the value appears as a file. */
  readonly file?: string;
}

/** `host-volumes.<key>: {host-path, container-path, mode}`. */
export interface HostVolumeSpec {
  readonly key: string;
  /** Absolute path on the agent. */
  readonly hostPath: string;
  /** Relative to the sandbox. */
  readonly containerPath: string;
  /** @default "RW" */
  readonly mode: "RW" | "RO";
}

/** `networks.<name>: {host-ports, container-ports, labels}`: a CNI network (Mesos NetworkInfo). */
export interface NetworkSpec {
  readonly name: string;
  readonly hostPorts: readonly number[];
  readonly containerPorts: readonly number[];
  readonly labels: Readonly<Record<string, string>>;
}

export interface PodSpec {
  /** Pod type, the key under `pods:`. */
  readonly type: string;
  readonly count: number;
  readonly allowDecommission: boolean;
  readonly user?: string;
  /** Where its instances may go (`placement:`); absent: any agent. */
  readonly placement?: PlacementSpec;
  readonly resourceSets: readonly ResourceSetSpec[];
  readonly tasks: readonly TaskSpec[];
  /** Pod-level `volume`/`volumes`: on the pod's executor, shared by all its tasks. */
  readonly volumes?: readonly VolumeSpec[];
  /** `uris`: fetched into each task's sandbox before it starts. */
  readonly uris?: readonly string[];
  /** `image`: a Docker image name the tasks run in (Mesos containerizer). */
  readonly image?: string;
  readonly networks?: readonly NetworkSpec[];
  readonly rlimits?: readonly RlimitSpec[];
  readonly secrets?: readonly SecretSpec[];
  readonly hostVolumes?: readonly HostVolumeSpec[];
  /** `pre-reserved-role`: resources statically reserved for this role, refined to ours. */
  readonly preReservedRole?: string;
  readonly sharePidNamespace?: boolean;
  /** `seccomp-unconfined` / `seccomp-profile-name`. */
  readonly seccomp?: { readonly unconfined: boolean; readonly profileName?: string };
  readonly ipcMode?: IpcMode;
  readonly shmSizeMb?: number;
}

/** Custom steps of a phase: per pod index (or "default"), the task-name groups, one per step. */
export type StepsSpec = ReadonlyMap<number | "default", readonly (readonly string[])[]>;

export interface PhaseSpec {
  readonly name: string;
  readonly pod: string;
  readonly strategy: StrategyName;
  /** Absent: one step per pod instance launching all its tasks. */
  readonly steps?: StepsSpec;
}

export interface PlanSpec {
  readonly name: string;
  readonly strategy: "serial" | "parallel";
  readonly phases: readonly PhaseSpec[];
}

export interface ServiceSpec {
  readonly name: string;
  /** `web-url`: accepted and warned about (one framework URL for all services, §7.1 item 2). */
  readonly webUrl?: string;
  readonly user?: string;
  /** In spec order. */
  readonly pods: readonly PodSpec[];
  /** From `plans:`, in spec order; empty when the YAML has none (a deploy plan is generated). */
  readonly plans: readonly PlanSpec[];
}

/** A key accepted from the reference format but not acted upon yet. */
export interface SpecWarning {
  readonly field: string;
  readonly message: string;
}

export interface ParsedSpec {
  readonly spec: ServiceSpec;
  readonly warnings: readonly SpecWarning[];
}
