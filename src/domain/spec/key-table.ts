/**
 * Every key of the ServiceSpec YAML (dcos-commons §4.2) and what Corral does with it on each
 * driver: acted on, or accepted with a warning that says what happens instead. The table test
 * proves each row against the parser and driverNotes, and that no key the parser accepts lacks
 * a row. Paths use `*` for a named entry (`pods.*.tasks.*.ports.*.vip`).
 */
export type KeyHandling = "acted" | "warned";

export interface KeyRow {
  readonly path: string;
  readonly local: KeyHandling;
  readonly mesos: KeyHandling;
  readonly how: string;
}

const row = (path: string, local: KeyHandling, mesos: KeyHandling, how: string): KeyRow => ({ path, local, mesos, how });
const both = (path: string, how: string): KeyRow => row(path, "acted", "acted", how);
const warned = (path: string, how: string): KeyRow => row(path, "warned", "warned", how);
const mesosOnly = (path: string, how: string): KeyRow => row(path, "warned", "acted", how);

const P = "pods.*";
const T = `${P}.tasks.*`;
const S = `${P}.resource-sets.*`;

/** The resource keys, the same on a task (inline) and in a resource set. */
function resourceRows(at: string): KeyRow[] {
  return [
    both(`${at}.cpus`, "reserved from the offer; TaskInfo cpus"),
    both(`${at}.gpus`, "reserved from the offer; TaskInfo gpus"),
    both(`${at}.memory`, "reserved from the offer; TaskInfo mem"),
    both(`${at}.ports`, "reserved ports; the assigned number in the env-key variable"),
    both(`${at}.ports.*.port`, "fixed port, or 0 for any offered port"),
    both(`${at}.ports.*.env-key`, "variable holding the assigned port (default PORT_<NAME>)"),
    both(`${at}.ports.*.advertise`, "listed by GetEndpoints and in the task's DiscoveryInfo"),
    both(`${at}.ports.*.vip`, "DiscoveryInfo port label VIP_<n>; GetEndpoints lists <prefix>.<service>.l4lb.thisdcos.directory:<port>"),
    both(`${at}.ports.*.ranges`, "a dynamic port is chosen inside the ranges"),
    both(`${at}.volume`, "persistent volume reserved and created in the task's sandbox"),
    both(`${at}.volumes`, "persistent volumes reserved and created in the task's sandbox"),
    both(`${at}.volume.path`, "the volume's path in the sandbox"),
    both(`${at}.volume.type`, "ROOT or MOUNT disk"),
    both(`${at}.volume.size`, "disk size in MB"),
    warned(`${at}.volume.profiles`, "disk profiles need a CSI resource provider; the volume is reserved without a profile"),
    row(`${at}.resource-limits`, "acted", "acted", "local: enforced with cgroups (root and a cgroup hierarchy), else warned; Mesos: TaskInfo.limits"),
  ];
}

export const KEY_TABLE: readonly KeyRow[] = [
  both("name", "the service name"),
  warned("web-url", "not served: Corral has one scheduler URL for all its services"),
  warned("replacement-failure-policy", "the reference's permanent-failure timers; Corral: --replace-unreachable-after, or `corral pod NAME replace POD`"),
  both("scheduler", "scheduler settings"),
  both("scheduler.user", "the user the service's tasks run as"),
  warned("scheduler.principal", "Corral's own --principal applies to every service"),
  warned("scheduler.zookeeper", "Corral's own --store applies to every service"),
  warned("user", "not a key of the reference; the service user is scheduler.user"),
  both("pods", "pod types, deployed in spec order"),
  both("plans", "plans; without them a serial deploy plan is generated"),
  both("plans.*.strategy", "serial or parallel over phases"),
  both("plans.*.phases", "phases, in order"),
  both("plans.*.phases.*.pod", "the pod type the phase deploys"),
  both("plans.*.phases.*.strategy", "serial, parallel, canary, serial-canary or parallel-canary"),
  both("plans.*.phases.*.steps", "custom steps per pod index or default"),
  both(`${P}.count`, "instances of the pod"),
  both(`${P}.allow-decommission`, "lets count shrink and the pod be removed"),
  both(`${P}.user`, "the user the pod's tasks run as"),
  both(`${P}.placement`, "Marathon-style constraints on the agents the pod may use"),
  both(`${P}.resource-sets`, "named resource sets the tasks share"),
  both(`${P}.tasks`, "the pod's tasks"),
  both(`${P}.volume`, "a volume on the pod's executor, shared by all its tasks (SANDBOX_PATH PARENT)"),
  both(`${P}.volumes`, "volumes on the pod's executor, shared by all its tasks (SANDBOX_PATH PARENT)"),
  both(`${P}.uris`, "fetched into each task's sandbox before it starts; Mesos CommandInfo.uris"),
  mesosOnly(`${P}.image`, "the local agent runs tasks on the host; on Mesos it is the container image"),
  mesosOnly(`${P}.networks`, "host network on the local agent; on Mesos the task's CNI network (NetworkInfo)"),
  both(`${P}.rlimits`, "setrlimit/prlimit on the local agent; Mesos LinuxInfo rlimit_info"),
  both(`${P}.secrets`, "env and/or file from the secret store (the agent's file store; Mesos secret references)"),
  both(`${P}.host-volumes`, "host path linked into the sandbox; Mesos HOST_PATH volume"),
  warned(`${P}.external-volumes`, "external (Docker volume driver) volumes are not supported; the tasks start without them"),
  both(`${P}.pre-reserved-role`, "resources from the role's static reservation, refined to Corral's role"),
  mesosOnly(`${P}.share-pid-namespace`, "host PID namespace on the local agent; Mesos LinuxInfo.share_pid_namespace"),
  mesosOnly(`${P}.seccomp-unconfined`, "host seccomp policy on the local agent; Mesos LinuxInfo.seccomp"),
  mesosOnly(`${P}.seccomp-profile-name`, "host seccomp policy on the local agent; Mesos LinuxInfo.seccomp"),
  mesosOnly(`${P}.ipc-mode`, "host IPC namespace on the local agent; Mesos LinuxInfo.ipc_mode"),
  mesosOnly(`${P}.shm-size`, "host /dev/shm on the local agent; Mesos LinuxInfo.shm_size"),
  warned(`${P}.container`, "older form: its image (or image-name), networks and rlimits are read as the pod-level keys"),
  warned(`${P}.capabilities`, "Linux capabilities are not granted: the agent's (local) or the default (Mesos) ones; not passed in LinuxInfo yet"),
  warned(`${P}.isolate-tmp`, "not acted on: tasks share the host's /tmp; the sandbox has no tmp/"),
  warned(`${P}.shared-memory`, "older name of ipc-mode, read as ipc-mode (ipc-mode wins when both are given)"),
  warned(`${P}.shared-memory-size`, "older name of shm-size, read as shm-size (shm-size wins when both are given)"),
  ...resourceRows(S),
  both(`${T}.goal`, "RUNNING, FINISH or ONCE"),
  both(`${T}.cmd`, "the shell command"),
  both(`${T}.env`, "environment variables"),
  both(`${T}.essential`, "false: the task's exit does not relaunch its pod"),
  both(`${T}.kill-grace-period`, "seconds between SIGTERM and SIGKILL"),
  both(`${T}.health-check`, "command health check; failure kills and relaunches"),
  both(`${T}.readiness-check`, "a RUNNING step completes once it passes"),
  both(`${T}.resource-set`, "the resource set the task uses"),
  ...resourceRows(T),
  both(`${T}.labels`, "TaskInfo labels beside Corral's own (whose keys are reserved)"),
  both(`${T}.discovery`, "TaskInfo DiscoveryInfo (name <prefix>-<index>, visibility)"),
  warned(`${T}.transport-encryption`, "no TaskInfo field; TLS artifacts need the DC/OS CA"),
  warned(`${T}.configs`, "served by the reference's artifact endpoint; Corral does not render config templates yet"),
  mesosOnly(`${T}.ipc-mode`, "host IPC namespace on the local agent; Mesos LinuxInfo.ipc_mode of the task"),
  mesosOnly(`${T}.shm-size`, "host /dev/shm on the local agent; Mesos LinuxInfo.shm_size of the task"),
  warned(`${T}.shared-memory`, "older name of ipc-mode, read as ipc-mode (ipc-mode wins when both are given)"),
  warned(`${T}.shared-memory-size`, "older name of shm-size, read as shm-size (shm-size wins when both are given)"),
];
