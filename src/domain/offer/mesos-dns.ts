/**
 * The DC/OS names a task is reached by (the reference's EndpointUtils): Mesos DNS
 * `<task>.<framework>.autoip.dcos.thisdcos.directory` and the VIP `<prefix>.<framework>.l4lb.thisdcos.directory`.
 * Shared by the task environment (FRAMEWORK_HOST, FRAMEWORK_VIP_HOST) and GetEndpoints, so
 * `$TASK_NAME.$FRAMEWORK_HOST` is the endpoint's DNS name for a task without a discovery prefix.
 */
export const AUTOIP_TLD = "autoip.dcos.thisdcos.directory";
export const VIP_TLD = "l4lb.thisdcos.directory";

/** Mesos DNS drops the slashes of a name (the reference's EndpointUtils). */
export const dnsLabel = (s: string): string => s.replace(/\//g, "");

/** `<framework>.autoip.dcos.thisdcos.directory`: under it, a task by its DiscoveryInfo name. */
export const frameworkHost = (frameworkName: string): string => `${dnsLabel(frameworkName)}.${AUTOIP_TLD}`;

/** `<framework>.l4lb.thisdcos.directory`: under it, a VIP by its prefix. */
export const frameworkVipHost = (frameworkName: string): string => `${dnsLabel(frameworkName)}.${VIP_TLD}`;

/** `<task>.<framework>.autoip…:port`; `task` is the DiscoveryInfo name (the task instance name unless a discovery prefix is set). */
export const autoIpAddress = (task: string, frameworkName: string, port: number): string =>
  `${dnsLabel(task)}.${frameworkHost(frameworkName)}:${port}`;

/** `<prefix>.<framework>.l4lb…:port`. */
export const vipAddress = (prefix: string, frameworkName: string, port: number): string =>
  `${dnsLabel(prefix)}.${frameworkVipHost(frameworkName)}:${port}`;
