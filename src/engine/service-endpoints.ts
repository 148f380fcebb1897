/**
 * A service's endpoints (GetEndpoints, the reference's `/endpoints`): for each advertised port
 * name, the `host:port` of the running tasks that have it, their Mesos DNS names, and its VIP.
 * Read from the stored TaskInfos alone — their DiscoveryInfo ports and the agent hostname label —
 * so it answers the same before and after a restart.
 */
import type { DiscoveryInfo, TaskInfo } from "../domain/cluster.js";
import { LABEL_OFFER_HOSTNAME } from "../domain/offer/agent-place.js";
import type { StoredTask } from "../domain/service/task-record.js";

export interface ServiceEndpoint {
  /** The port name. */
  name: string;
  /** `host:port` of each running task with the port. */
  addresses: string[];
  /** `<task>.<framework>.autoip.dcos.thisdcos.directory:port` of each (`<task>`: its DiscoveryInfo name, else its name). */
  dns: string[];
  /** `<prefix>.<framework>.l4lb.thisdcos.directory:<vip port>` when the port has a VIP. */
  vip?: string;
}

const AUTOIP_TLD = "autoip.dcos.thisdcos.directory";
const VIP_TLD = "l4lb.thisdcos.directory";
/** DiscoveryInfo port label of a VIP, `VIP_<id>` = `<prefix>:<port>` (the reference's). */
const VIP_LABEL_PREFIX = "VIP_";

type DiscoveryPort = NonNullable<DiscoveryInfo["ports"]>[number];

/** Mesos DNS drops the slashes of a framework name (the reference's EndpointUtils). */
const dnsName = (s: string): string => s.replace(/\//g, "");

/** The VIP of a port, from its first well-formed `VIP_*` label. */
function vipOf(port: DiscoveryPort, frameworkName: string): string | undefined {
  for (const [key, value] of Object.entries(port.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!key.startsWith(VIP_LABEL_PREFIX)) continue;
    const colon = value.lastIndexOf(":");
    if (colon <= 0 || !/^\d+$/.test(value.slice(colon + 1))) continue;
    return `${dnsName(value.slice(0, colon))}.${dnsName(frameworkName)}.${VIP_TLD}:${value.slice(colon + 1)}`;
  }
  return undefined;
}

/** Advertised (visibility EXTERNAL, the reference's `advertise: true`; unset counts) or with a VIP. */
function listed(port: DiscoveryPort): port is DiscoveryPort & { name: string } {
  if (!port.name) return false;
  const vip = Object.keys(port.labels ?? {}).some((k) => k.startsWith(VIP_LABEL_PREFIX));
  return vip || port.visibility === undefined || port.visibility === "EXTERNAL";
}

/** The task's latest status is TASK_RUNNING, for this launch of it. */
function running(t: StoredTask): boolean {
  return t.status?.taskId === t.info.taskId && t.status.state === "TASK_RUNNING";
}

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * One endpoint per advertised port name, sorted by name. The DNS names are the framework's, not
 * the service's: Mesos DNS knows tasks by framework (§1.10 MultiEndpointsResource), so `_service`
 * (whose tasks these are) does not enter them.
 */
export function endpointsOf(tasks: Iterable<StoredTask>, _service: string, frameworkName: string): ServiceEndpoint[] {
  const byName = new Map<string, ServiceEndpoint>();
  for (const t of tasks) {
    if (!running(t)) continue;
    const info: TaskInfo = t.info;
    const host = info.labels[LABEL_OFFER_HOSTNAME];
    for (const port of (info.discovery?.ports ?? []).filter(listed)) {
      const ep = byName.get(port.name) ?? { name: port.name, addresses: [], dns: [] };
      byName.set(port.name, ep);
      if (host !== undefined) ep.addresses.push(`${host}:${port.number}`);
      // Mesos DNS names a task by its DiscoveryInfo name when it has one (`discovery: {prefix}`).
      ep.dns.push(`${dnsName(info.discovery?.name ?? info.name)}.${dnsName(frameworkName)}.${AUTOIP_TLD}:${port.number}`);
      const vip = vipOf(port, frameworkName);
      if (vip !== undefined && ep.vip === undefined) ep.vip = vip;
    }
  }
  return [...byName.values()]
    .map((ep) => ({ ...ep, addresses: [...new Set(ep.addresses)].sort(byText), dns: [...new Set(ep.dns)].sort(byText) }))
    .sort((a, b) => byText(a.name, b.name));
}
