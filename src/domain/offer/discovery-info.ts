/**
 * Mesos DiscoveryInfo of a task (dcos-commons' DiscoveryUtils and port evaluation): the task's
 * `discovery` (name `<prefix>-<index>`, its visibility), and one port entry per port that is
 * advertised or has a VIP. A port's visibility is EXTERNAL when advertised, CLUSTER otherwise,
 * as the reference's `toVisibility`; EXTERNAL is what its endpoints list. A VIP port carries the
 * label `VIP_<port name>` = `<prefix>:<vip port>`: the reference keys it `VIP_<random uuid>`
 * (only the prefix `VIP_` is read back), a key by port name keeps the TaskInfo deterministic.
 * Without a `discovery` spec the task gets one (name = task instance, CLUSTER) only when it has
 * such ports. Ports neither advertised nor on a VIP are left out (the reference lists every
 * port, with CLUSTER visibility, for Mesos-DNS SRV records that Corral does not serve).
 */
import type { DiscoveryInfo, Resource } from "../cluster.js";
import type { PortSpec, ResourceSetSpec, TaskSpec } from "../spec/types.js";

export const VIP_LABEL_PREFIX = "VIP_";

type DiscoveryPort = NonNullable<DiscoveryInfo["ports"]>[number];

function discoveryPort(spec: PortSpec, number: number): DiscoveryPort {
  const vip = spec.vip;
  return {
    number,
    name: spec.name,
    protocol: vip?.protocol ?? "tcp",
    visibility: spec.advertise ? "EXTERNAL" : "CLUSTER",
    ...(vip ? { labels: { [`${VIP_LABEL_PREFIX}${spec.name}`]: `${vip.prefix}:${vip.port}` } } : {}),
  };
}

/** `resources`: the task's, whose port resources are in the order of the resource set's ports. */
export function discoveryInfo(
  task: TaskSpec,
  instanceName: string,
  podIndex: number,
  rs: ResourceSetSpec | undefined,
  resources: readonly Resource[],
): DiscoveryInfo | undefined {
  const assigned = resources.filter((r) => r.name === "ports");
  const ports: DiscoveryPort[] = [];
  rs?.ports.forEach((p, i) => {
    const number = assigned[i]?.ranges?.[0]?.begin;
    if (number !== undefined && (p.advertise || p.vip)) ports.push(discoveryPort(p, number));
  });
  const d = task.discovery;
  if (!d && ports.length === 0) return undefined;
  return {
    visibility: d?.visibility ?? "CLUSTER",
    name: d?.prefix !== undefined ? `${d.prefix}-${podIndex}` : instanceName,
    ...(ports.length > 0 ? { ports } : {}),
  };
}
