/**
 * The registry of running services (the reference's MultiServiceManager): by original name,
 * and by the sanitized name that task IDs carry. JavaScript runs one call at a time, so no lock
 * is needed; callers get snapshots and never iterate the live maps.
 */
import { SchedulerError } from "../domain/errors.js";
import type { ServiceScheduler } from "./service-scheduler.js";

export class MultiServiceManager {
  private readonly byName = new Map<string, ServiceScheduler>();
  private readonly bySanitized = new Map<string, string>();

  /** Adds or replaces a service. A different name with the same sanitized form is refused. */
  put(service: ServiceScheduler): void {
    const owner = this.bySanitized.get(service.sanitizedName);
    if (owner !== undefined && owner !== service.name) {
      throw new SchedulerError(
        "already_exists",
        `service '${service.name}' and existing service '${owner}' share the task-ID name '${service.sanitizedName}'`,
      );
    }
    this.byName.set(service.name, service);
    this.bySanitized.set(service.sanitizedName, service.name);
  }

  get(name: string): ServiceScheduler | undefined {
    return this.byName.get(name);
  }

  getBySanitized(sanitized: string): ServiceScheduler | undefined {
    const name = this.bySanitized.get(sanitized);
    return name === undefined ? undefined : this.byName.get(name);
  }

  remove(name: string): void {
    const svc = this.byName.get(name);
    if (!svc) return;
    this.byName.delete(name);
    this.bySanitized.delete(svc.sanitizedName);
  }

  /** Original names, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** A snapshot in insertion order. */
  services(): ServiceScheduler[] {
    return [...this.byName.values()];
  }

  get size(): number {
    return this.byName.size;
  }
}
