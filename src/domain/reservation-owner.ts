/**
 * Whose a reserved resource is (dcos-commons §1.3, §3.10 item 8, §3.11): the service its
 * `namespace` label names; else, for a reservation of ours without one (a mono scheduler's, or
 * one made before a migration to multi mode), the framework's default service — the service
 * whose sanitized name equals the sanitized framework name. Without a default service such a
 * reservation has no owner and is left alone (never destroyed). The reference compares the raw
 * framework name with sanitized service names, so a foldered framework name (`team/fw`) never
 * matched (§7.2 hazard 2); both sides are sanitized here.
 */
import type { Resource } from "./cluster.js";
import { LABEL_FRAMEWORK_ID, LABEL_NAMESPACE, LABEL_RESOURCE_ID } from "./cluster.js";
import { sanitizeServiceName } from "./names.js";
import { reservationLabels } from "./offer/pool.js";

/** Whether `service` is the default service of the framework named `frameworkName`. */
export function isDefaultService(service: string, frameworkName: string): boolean {
  return sanitizeServiceName(service) === sanitizeServiceName(frameworkName);
}

/**
 * The service owning `r`, a resource of an offer made to framework `frameworkId`; undefined for
 * an unreserved resource, another framework's, one not made by a scheduler (no resource_id), or
 * an unlabelled one without our framework_id or while there is no default service. `defaultService`: the default service's
 * name, if it exists.
 */
export function reservationOwner(r: Resource, frameworkId: string, defaultService: string | undefined): string | undefined {
  const labels = reservationLabels(r);
  if (labels === undefined) return undefined;
  const ns = labels[LABEL_NAMESPACE];
  if (ns !== undefined) return ns;
  if (defaultService === undefined || labels[LABEL_RESOURCE_ID] === undefined) return undefined;
  // Without our framework_id it may be another framework's (one sharing the role): never ours to judge.
  return labels[LABEL_FRAMEWORK_ID] === frameworkId ? defaultService : undefined;
}
