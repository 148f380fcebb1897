/** GetEndpoints over a service's stored tasks (service-endpoints.ts computes them). */
import { SchedulerError, abbreviate, abbreviateList } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import { endpointsOf } from "./service-endpoints.js";
import type { ServiceEndpoint } from "./service-endpoints.js";
import { loadServiceTasks } from "./task-views.js";
import type { TaskReadDeps } from "./task-views.js";

/**
 * The endpoints of service `name`, or the one named `portName` (absent or "" = all).
 * @throws SchedulerError invalid_argument for a bad name; not_found for an unknown service or
 * an endpoint it does not have (the reason names it and lists those it has).
 */
export async function serviceEndpoints(
  deps: TaskReadDeps,
  frameworkName: string,
  name: string,
  portName?: string,
): Promise<ServiceEndpoint[]> {
  const violations = validateServiceName(name);
  if (violations.length > 0) throw SchedulerError.invalid(violations);
  const all = endpointsOf((await loadServiceTasks(deps, name)).values(), name, frameworkName);
  if (portName === undefined || portName === "") return all;
  const one = all.filter((e) => e.name === portName);
  if (one.length > 0) return one;
  const known = all.length === 0 ? "it has none" : `endpoints: ${abbreviateList(all.map((e) => e.name))}`;
  throw new SchedulerError("not_found", `service '${name}' has no endpoint '${abbreviate(portName)}' (${known})`);
}
