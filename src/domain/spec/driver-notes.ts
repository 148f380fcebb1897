/**
 * Warnings that depend on the cluster a service runs on, beside the parser's: the local agent
 * runs tasks as plain host processes, so container keys Mesos acts on are only explained there;
 * and on any cluster, what it cannot offer a pod (driver-offer-notes.ts).
 * Pure; the engine adds these to PutService's warnings. Field paths are the parser's.
 */
import { offerNotes, setField } from "./driver-offer-notes.js";
import type { ClusterCapabilities } from "./cluster-capabilities.js";
import type { PodSpec, ServiceSpec, SpecWarning } from "./types.js";

export type { ClusterCapabilities } from "./cluster-capabilities.js";

const HOST = "the local agent runs tasks as host processes";

/** What each container key does instead on the local agent. */
export const LOCAL_NOTES = {
  image: `${HOST}; on Mesos it is the container image`,
  networks: `${HOST} on the host network; on Mesos it is the task's CNI network`,
  seccomp: `${HOST} with the host's seccomp policy; on Mesos it is passed in LinuxInfo.seccomp`,
  sharePidNamespace: `${HOST} in the host PID namespace; on Mesos it is passed in LinuxInfo.share_pid_namespace`,
  ipcMode: `${HOST} in the host IPC namespace; on Mesos it is passed in LinuxInfo.ipc_mode`,
  shmSize: `${HOST} with the host's /dev/shm; on Mesos it is passed in LinuxInfo.shm_size`,
  limits: "not enforced: needs root and a cgroup hierarchy; on Mesos it is TaskInfo.limits",
} as const;

function podNotes(pod: PodSpec, caps: ClusterCapabilities): SpecWarning[] {
  const at = `spec.pods.${pod.type}`;
  const notes: SpecWarning[] = [];
  const note = (field: string, message: string) => notes.push({ field, message });
  if (pod.image !== undefined) note(`${at}.image`, LOCAL_NOTES.image);
  if ((pod.networks ?? []).length > 0) note(`${at}.networks`, LOCAL_NOTES.networks);
  if (pod.seccomp !== undefined) {
    // One note per key the spec wrote.
    if (pod.seccomp.profileName !== undefined) note(`${at}.seccomp-profile-name`, LOCAL_NOTES.seccomp);
    if (pod.seccomp.unconfined || pod.seccomp.profileName === undefined) note(`${at}.seccomp-unconfined`, LOCAL_NOTES.seccomp);
  }
  if (pod.sharePidNamespace === true) note(`${at}.share-pid-namespace`, LOCAL_NOTES.sharePidNamespace);
  if (pod.ipcMode !== undefined) note(`${at}.ipc-mode`, LOCAL_NOTES.ipcMode);
  if (pod.shmSizeMb !== undefined) note(`${at}.shm-size`, LOCAL_NOTES.shmSize);
  for (const task of pod.tasks) {
    const taskAt = `${at}.tasks.${task.name}`;
    if (task.ipcMode !== undefined) note(`${taskAt}.ipc-mode`, LOCAL_NOTES.ipcMode);
    if (task.shmSizeMb !== undefined) note(`${taskAt}.shm-size`, LOCAL_NOTES.shmSize);
  }
  if (!caps.cgroups) {
    for (const set of pod.resourceSets) {
      if (set.limits === undefined) continue;
      note(setField(pod, set.id, "resource-limits"), LOCAL_NOTES.limits);
    }
  }
  return notes;
}

/**
 * The warnings `spec` earns on a cluster with `caps`: for the local agent (and the simulated
 * cluster, which stands in for it) the container keys it cannot honour, which Mesos acts on; on
 * any kind, what the cluster cannot offer (a pre-reserved pool, GPUs, a fixed port) so the pod
 * would never be placed.
 */
export function driverNotes(spec: ServiceSpec, caps: ClusterCapabilities): SpecWarning[] {
  return spec.pods.flatMap((pod) => [...(caps.kind === "mesos" ? [] : podNotes(pod, caps)), ...offerNotes(pod, caps)]);
}
