/**
 * A service's endpoints (GetEndpoints, the reference's `/endpoints`). Which endpoints there are
 * comes from the spec — every port advertised or on a VIP, named by the port name — so they are
 * listed before any task runs; the `host:port` and Mesos DNS names of the running tasks come from
 * their stored TaskInfos (DiscoveryInfo ports, agent hostname label), so they answer the same
 * before and after a restart. Without a spec (a service whose context does not build) the
 * endpoints are those the running tasks advertise.
 */
import type { DiscoveryInfo, TaskInfo } from "../domain/cluster.js";
import { LABEL_OFFER_HOSTNAME } from "../domain/offer/agent-place.js";
import { VIP_LABEL_PREFIX } from "../domain/offer/discovery-info.js";
import { autoIpAddress, vipAddress } from "../domain/offer/mesos-dns.js";
import type { StoredTask } from "../domain/service/task-record.js";
import type { ServiceSpec } from "../domain/spec/types.js";

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

type DiscoveryPort = NonNullable<DiscoveryInfo["ports"]>[number];

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The VIP of a task's port, from its first well-formed `VIP_*` label (`<prefix>:<port>`). */
function labelVip(port: DiscoveryPort, frameworkName: string): string | undefined {
  for (const [key, value] of Object.entries(port.labels ?? {}).sort(([a], [b]) => byText(a, b))) {
    if (!key.startsWith(VIP_LABEL_PREFIX)) continue;
    const colon = value.lastIndexOf(":");
    if (colon <= 0 || !/^\d+$/.test(value.slice(colon + 1))) continue;
    return vipAddress(value.slice(0, colon), frameworkName, Number(value.slice(colon + 1)));
  }
  return undefined;
}

/** Advertised (visibility EXTERNAL, the reference's `advertise: true`; unset counts) or with a VIP. */
function listed(port: DiscoveryPort): boolean {
  const vip = Object.keys(port.labels ?? {}).some((k) => k.startsWith(VIP_LABEL_PREFIX));
  return vip || port.visibility === undefined || port.visibility === "EXTERNAL";
}

/** The task's latest status is TASK_RUNNING, for this launch of it. */
function running(t: StoredTask): boolean {
  return t.status?.taskId === t.info.taskId && t.status.state === "TASK_RUNNING";
}

/**
 * The spec's endpoints, empty: each port with `advertise: true` or a `vip`, across pods, by port
 * name; the VIP of the first such port (in spec order) that has one.
 */
function specEndpoints(spec: ServiceSpec, frameworkName: string): Map<string, ServiceEndpoint> {
  const out = new Map<string, ServiceEndpoint>();
  for (const pod of spec.pods) {
    for (const rs of pod.resourceSets) {
      for (const p of rs.ports) {
        if (!p.advertise && !p.vip) continue;
        const ep = out.get(p.name) ?? { name: p.name, addresses: [], dns: [] };
        out.set(p.name, ep);
        if (p.vip && ep.vip === undefined) ep.vip = vipAddress(p.vip.prefix, frameworkName, p.vip.port);
      }
    }
  }
  return out;
}

/**
 * One endpoint per advertised port name, sorted by name: those of `spec` when given (a task's
 * port of another name — a config no longer the target — is left out), else those the running
 * tasks advertise. The DNS names are the framework's, not the service's: Mesos DNS knows tasks
 * by framework (§1.10 MultiEndpointsResource), so `_service` (whose tasks these are) does not
 * enter them.
 */
export function endpointsOf(
  tasks: Iterable<StoredTask>,
  _service: string,
  frameworkName: string,
  spec?: ServiceSpec,
): ServiceEndpoint[] {
  const byName = spec ? specEndpoints(spec, frameworkName) : new Map<string, ServiceEndpoint>();
  for (const t of tasks) {
    if (!running(t)) continue;
    const info: TaskInfo = t.info;
    const host = info.labels[LABEL_OFFER_HOSTNAME];
    for (const port of info.discovery?.ports ?? []) {
      if (!port.name) continue;
      let ep = byName.get(port.name);
      if (ep === undefined) {
        if (spec || !listed(port)) continue;
        ep = { name: port.name, addresses: [], dns: [] };
        byName.set(port.name, ep);
      }
      if (host !== undefined) ep.addresses.push(`${host}:${port.number}`);
      // Mesos DNS names a task by its DiscoveryInfo name (`<prefix>-<index>` with `discovery: {prefix}`), else by its name.
      ep.dns.push(autoIpAddress(info.discovery?.name ?? info.name, frameworkName, port.number));
      if (!spec && ep.vip === undefined) {
        const vip = labelVip(port, frameworkName);
        if (vip !== undefined) ep.vip = vip;
      }
    }
  }
  return [...byName.values()]
    .map((ep) => ({ ...ep, addresses: [...new Set(ep.addresses)].sort(byText), dns: [...new Set(ep.dns)].sort(byText) }))
    .sort((a, b) => byText(a.name, b.name));
}
