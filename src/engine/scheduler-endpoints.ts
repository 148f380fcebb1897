/** GetEndpoints over a service's spec and stored tasks (service-endpoints.ts computes them). */
import { SchedulerError, abbreviate, abbreviateList } from "../domain/errors.js";
import { validateServiceName } from "../domain/names.js";
import type { ServiceSpec } from "../domain/spec/types.js";
import type { ServiceContext } from "./service-context.js";
import type { ServiceFactory } from "./service-factory.js";
import { endpointsOf } from "./service-endpoints.js";
import type { ServiceEndpoint } from "./service-endpoints.js";
import { loadServiceTasks } from "./task-views.js";
import type { TaskReadDeps } from "./task-views.js";

/**
 * Parsed specs by context: a service keeps its context object until its next put, so a spec is
 * rendered and parsed once per config, not per request. `null`: the context does not build.
 */
const specs = new WeakMap<ServiceContext, ServiceSpec | null>();

/**
 * The spec of a managed service's stored context, undefined for a quarantined service, one
 * without a readable context or whose context does not build (its endpoints then come from its
 * tasks alone). ManagedService holds its parsed spec but does not expose it; its context built
 * with the scheduler's factory when it was stored, so building it again gives that spec.
 */
function specOf(deps: TaskReadDeps, factory: ServiceFactory, name: string): ServiceSpec | undefined {
  const context = deps.manager.get(name)?.context;
  if (context === undefined) return undefined;
  let spec = specs.get(context);
  if (spec === undefined) {
    try {
      spec = factory.build(context).spec;
    } catch {
      spec = null;
    }
    specs.set(context, spec);
  }
  return spec ?? undefined;
}

/**
 * The endpoints of service `name`, or the one named `portName` (absent or "" = all).
 * @throws SchedulerError invalid_argument for a bad name; not_found for an unknown service or
 * an endpoint it does not have (the reason names it and lists those it has).
 */
export async function serviceEndpoints(
  deps: TaskReadDeps,
  frameworkName: string,
  factory: ServiceFactory,
  name: string,
  portName?: string,
): Promise<ServiceEndpoint[]> {
  const violations = validateServiceName(name);
  if (violations.length > 0) throw SchedulerError.invalid(violations);
  const tasks = await loadServiceTasks(deps, name);
  const all = endpointsOf(tasks.values(), name, frameworkName, specOf(deps, factory, name));
  if (portName === undefined || portName === "") return all;
  const one = all.filter((e) => e.name === portName);
  if (one.length > 0) return one;
  const known = all.length === 0 ? "it has none" : `endpoints: ${abbreviateList(all.map((e) => e.name))}`;
  throw new SchedulerError("not_found", `service '${name}' has no endpoint '${abbreviate(portName)}' (${known})`);
}
