/**
 * Mesos ContainerInfo (type MESOS) of a pod's tasks and of its executor, from the spec's
 * container keys. As dcos-commons does with the DEFAULT executor: the image, rlimits, Linux
 * settings and volumes go on each task's container; the networks go on the executor's, because
 * Mesos refuses NetworkInfos on the tasks of a task group (mesos.proto TaskGroupInfo).
 * Undefined when the spec asks for nothing a container carries.
 */
import type { ContainerInfo, ContainerVolume, LinuxInfo, NetworkInfo, Rlimit } from "../cluster.js";
import type { NetworkSpec, PodSpec, RlimitSpec, TaskSpec } from "../spec/types.js";

/** Spec `RLIMIT_NOFILE` → Mesos RLimitInfo.RLimit.Type `RLMT_NOFILE`. */
export function rlimitType(name: RlimitSpec["name"]): string {
  return name.replace(/^RLIMIT_/, "RLMT_");
}

function rlimit(r: RlimitSpec): Rlimit {
  return { type: rlimitType(r.name), ...(r.soft !== undefined ? { soft: r.soft } : {}), ...(r.hard !== undefined ? { hard: r.hard } : {}) };
}

/** host-volumes, secret files, then the pod-level volumes shared through the executor's sandbox. */
function taskVolumes(pod: PodSpec): ContainerVolume[] {
  const host = (pod.hostVolumes ?? []).map(
    (h): ContainerVolume => ({ containerPath: h.containerPath, mode: h.mode, source: { type: "HOST_PATH", hostPath: { path: h.hostPath } } }),
  );
  const secrets = (pod.secrets ?? []).flatMap((s): ContainerVolume[] =>
    s.file === undefined ? [] : [{ containerPath: s.file, mode: "RO", source: { type: "SECRET", secret: { name: s.secret } } }],
  );
  const shared = (pod.volumes ?? []).map(
    (v): ContainerVolume => ({ containerPath: v.path, mode: "RW", source: { type: "SANDBOX_PATH", sandboxPath: { type: "PARENT", path: v.path } } }),
  );
  return [...host, ...secrets, ...shared];
}

/** The task's LinuxInfo: the pod's PID namespace and seccomp; IPC settings of the task over the pod's. */
function linuxInfo(pod: PodSpec, task: TaskSpec): LinuxInfo | undefined {
  const ipcMode = task.ipcMode ?? pod.ipcMode;
  // Mesos sizes /dev/shm only for PRIVATE: a SHARE_PARENT task uses its pod's, with no size.
  const shmSize = ipcMode === "SHARE_PARENT" ? undefined : (task.shmSizeMb ?? pod.shmSizeMb);
  const info: LinuxInfo = {
    ...(pod.sharePidNamespace ? { sharePidNamespace: true } : {}),
    ...(pod.seccomp ? { seccomp: pod.seccomp } : {}),
    ...(ipcMode !== undefined ? { ipcMode } : {}),
    ...(shmSize !== undefined ? { shmSize } : {}),
  };
  return Object.keys(info).length > 0 ? info : undefined;
}

export function taskContainer(pod: PodSpec, task: TaskSpec): ContainerInfo | undefined {
  const volumes = taskVolumes(pod);
  const linux = linuxInfo(pod, task);
  const rlimits = (pod.rlimits ?? []).map(rlimit);
  if (pod.image === undefined && volumes.length === 0 && !linux && rlimits.length === 0) return undefined;
  return {
    type: "MESOS",
    ...(pod.image !== undefined ? { image: pod.image } : {}),
    ...(volumes.length > 0 ? { volumes } : {}),
    ...(linux ? { linuxInfo: linux } : {}),
    ...(rlimits.length > 0 ? { rlimitInfo: { rlimits } } : {}),
  };
}

/** `networks.<name>`: its labels and host→container port pairs (the parser checks the counts match). */
export function networkInfo(n: NetworkSpec): NetworkInfo {
  const portMappings = n.hostPorts.map((hostPort, i) => ({ hostPort, containerPort: n.containerPorts[i] ?? hostPort }));
  return {
    name: n.name,
    ...(Object.keys(n.labels).length > 0 ? { labels: n.labels } : {}),
    ...(portMappings.length > 0 ? { portMappings } : {}),
  };
}

export function executorContainer(pod: PodSpec): ContainerInfo | undefined {
  const networks = pod.networks ?? [];
  return networks.length === 0 ? undefined : { type: "MESOS", networkInfos: networks.map(networkInfo) };
}
