/**
 * The registry of running services (the reference's MultiServiceManager): by original name,
 * and by the sanitized name that task IDs carry. JavaScript runs one call at a time, so no lock
 * is needed; callers get snapshots and never iterate the live maps.
 */
import { SchedulerError } from "../domain/errors.js";
import { sanitizeServiceName } from "../domain/names.js";
import type { ManagedService } from "./managed-service.js";

export type { ManagedService } from "./managed-service.js";

/**
 * A stored service whose context no longer builds (say, after an upgrade that rejects it). It
 * stays listed with its error and its tasks and reservations are left alone — the reference
 * forgets it and then destroys them (§7.2 hazard 5) — until a valid PutService repairs it.
 */
export interface QuarantinedService {
  readonly name: string;
  readonly error: string;
  readonly sinceMs: number;
}

export class MultiServiceManager {
  private readonly byName = new Map<string, ManagedService>();
  private readonly bySanitized = new Map<string, string>();
  private readonly quarantine = new Map<string, QuarantinedService>();
  private readonly quarantinedSanitized = new Set<string>();
  /** Told the name of every service added, replaced or removed (plan-events.ts looks at it). */
  onChange: ((name: string) => void) | undefined;

  /** Adds or replaces a service. A different name with the same sanitized form is refused. */
  put(service: ManagedService): void {
    const owner = this.bySanitized.get(service.sanitizedName);
    if (owner !== undefined && owner !== service.name) {
      throw new SchedulerError(
        "already_exists",
        `service '${service.name}' and existing service '${owner}' share the task-ID name '${service.sanitizedName}'`,
      );
    }
    this.byName.set(service.name, service);
    this.bySanitized.set(service.sanitizedName, service.name);
    if (this.quarantine.delete(service.name)) this.quarantinedSanitized.delete(service.sanitizedName);
    this.onChange?.(service.name);
  }

  putQuarantined(entry: QuarantinedService): void {
    this.quarantine.set(entry.name, entry);
    this.quarantinedSanitized.add(sanitizeServiceName(entry.name));
  }

  getQuarantined(name: string): QuarantinedService | undefined {
    return this.quarantine.get(name);
  }

  /** Whether a task ID's or reservation's service is quarantined (by either name form). */
  isQuarantined(name: string): boolean {
    return this.quarantine.has(name) || this.quarantinedSanitized.has(name);
  }

  quarantined(): QuarantinedService[] {
    return [...this.quarantine.values()];
  }

  get quarantinedCount(): number {
    return this.quarantine.size;
  }

  get(name: string): ManagedService | undefined {
    return this.byName.get(name);
  }

  getBySanitized(sanitized: string): ManagedService | undefined {
    const name = this.bySanitized.get(sanitized);
    return name === undefined ? undefined : this.byName.get(name);
  }

  remove(name: string): void {
    const svc = this.byName.get(name);
    if (!svc) return;
    this.byName.delete(name);
    this.bySanitized.delete(svc.sanitizedName);
    this.onChange?.(name);
  }

  /** Original names of running and quarantined services, sorted. */
  names(): string[] {
    return [...this.byName.keys(), ...this.quarantine.keys()].sort();
  }

  /** A snapshot in insertion order. */
  services(): ManagedService[] {
    return [...this.byName.values()];
  }

  get size(): number {
    return this.byName.size;
  }
}
