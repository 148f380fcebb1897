/**
 * What a cluster cannot offer a pod, so the pod would wait for offers forever: a pool for its
 * pre-reserved role, GPUs, a fixed port outside the offered ranges. Said only when the cluster's
 * capabilities name it (an absent field is unknown).
 */
import { EXECUTOR_RESOURCES } from "../offer/executor.js";
import type { ClusterCapabilities } from "./cluster-capabilities.js";
import type { PodSpec, SpecWarning } from "./types.js";

/** The field path of a resource set's `key`: on its task when written inline, else under resource-sets. */
export function setField(pod: PodSpec, setId: string, key: string): string {
  const at = `spec.pods.${pod.type}`;
  const owner = pod.tasks.find((t) => t.resourceSetId === setId && setId === `${t.name}-resource-set`);
  return owner ? `${at}.tasks.${owner.name}.${key}` : `${at}.resource-sets.${setId}.${key}`;
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** The static pool `pod` needs from its role: every instance's resource sets, volumes and executor. */
function poolFor(pod: PodSpec): string {
  const exec = (name: string) => EXECUTOR_RESOURCES.find((e) => e.name === name)?.scalar ?? 0;
  const disk = (vs: readonly { sizeMb: number }[] | undefined) => (vs ?? []).reduce((sum, v) => sum + v.sizeMb, 0);
  const sets = pod.resourceSets.filter((s) => pod.tasks.some((t) => t.resourceSetId === s.id));
  const n = Math.max(pod.count, 1);
  const cpus = round(n * (exec("cpus") + sets.reduce((sum, s) => sum + s.cpus, 0)));
  const mem = n * (exec("mem") + sets.reduce((sum, s) => sum + s.memoryMb, 0));
  const diskMb = n * (exec("disk") + disk(pod.volumes) + sets.reduce((sum, s) => sum + disk(s.volumes), 0));
  return `cpus=${cpus},mem=${mem},disk=${diskMb}`;
}

/** Who offers resources, with its verb: the local agent (the simulated cluster stands in for it) or Mesos' agents. */
const OFFERS = { local: "the local agent offers", sim: "the local agent offers", mesos: "the cluster's agents offer" } as const;

/** What the cluster cannot offer `pod`: its pre-reserved role's pool, GPUs, a fixed port. */
export function offerNotes(pod: PodSpec, caps: ClusterCapabilities): SpecWarning[] {
  const notes: SpecWarning[] = [];
  const role = pod.preReservedRole;
  if (role !== undefined && caps.preReservedRoles !== undefined && !caps.preReservedRoles.includes(role)) {
    const how = caps.kind === "mesos" ? `--pre-reserved-role ${role}` : `--agent-pre-reserved ${role}:${poolFor(pod)}`;
    notes.push({
      field: `spec.pods.${pod.type}.pre-reserved-role`,
      message: `no pool is reserved for role ${role}: the pod will not be placed until the scheduler runs with ${how}`,
    });
  }
  const used = pod.resourceSets.filter((s) => pod.tasks.some((t) => t.resourceSetId === s.id));
  for (const set of used) {
    if (caps.gpus === false && set.gpus > 0) {
      notes.push({ field: setField(pod, set.id, "gpus"), message: `${OFFERS[caps.kind]} no GPUs: the task will not be placed` });
    }
    const ranges = caps.ports;
    if (ranges === undefined) continue;
    for (const port of set.ports) {
      if (port.port === 0 || ranges.some((r) => port.port >= r.begin && port.port <= r.end)) continue;
      const offered = ranges.map((r) => (r.begin === r.end ? `${r.begin}` : `${r.begin}-${r.end}`)).join(",") || "none";
      const flag = caps.kind === "mesos" ? "the agents' --resources" : "--agent-ports";
      notes.push({
        field: setField(pod, set.id, `ports.${port.name}.port`),
        message: `port ${port.port} is outside the ports ${OFFERS[caps.kind]} (${offered}; ${flag}): the task will not be placed`,
      });
    }
  }
  return notes;
}
