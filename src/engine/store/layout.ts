/**
 * Node paths of the schema-2 layout (dcos-commons §2.3), relative to the scheduler's root.
 * Service names are escaped ("team/db" → "team__db"); names cannot contain "__".
 */
import { escapeServiceName } from "../../domain/names.js";

export const SCHEMA_VERSION = "SchemaVersion";
export const FRAMEWORK_ID = "FrameworkID";
export const SERVICE_LIST = "ServiceList";
export const SERVICES = "Services";

export function contextPath(service: string): string {
  return `${SERVICE_LIST}/${escapeServiceName(service)}/Context`;
}

export function serviceListEntry(service: string): string {
  return `${SERVICE_LIST}/${escapeServiceName(service)}`;
}

export function serviceRoot(service: string): string {
  return `${SERVICES}/${escapeServiceName(service)}`;
}

export function configTargetPath(service: string): string {
  return `${serviceRoot(service)}/ConfigTarget`;
}

export function configurationPath(service: string, configId: string): string {
  return `${serviceRoot(service)}/Configurations/${configId}`;
}

export function tasksPath(service: string): string {
  return `${serviceRoot(service)}/Tasks`;
}

export function taskInfoPath(service: string, task: string): string {
  return `${tasksPath(service)}/${task}/TaskInfo`;
}

export function taskStatusPath(service: string, task: string): string {
  return `${tasksPath(service)}/${task}/TaskStatus`;
}

/** Present once an agent reported on the stored TaskInfo: its reservations exist. */
export function taskConfirmedPath(service: string, task: string): string {
  return `${tasksPath(service)}/${task}/Confirmed`;
}

/** The operator's plan overrides of a service (plan-control.ts), JSON; survives restarts. */
export function planOverridesPath(service: string): string {
  return `${serviceRoot(service)}/PlanOverrides`;
}

/** The service's paused pod instances (pod pause/resume), JSON list of `hello-0`. */
export function pausedPodsPath(service: string): string {
  return `${serviceRoot(service)}/PausedPods`;
}

/** The deployment limit's admitted services (reference DisciplineSelectionStore: names joined by `__`). */
export const SELECTED_SERVICES = "SelectedServices";

/** The durable plan event log (WatchPlans), laid out like the uninstall event log. */
export const PLAN_EVENTS = "PlanEvents";

/**
 * The durable uninstall event log (uninstall-events.ts): one child per event, named by its
 * sequence number zero-padded to 20 digits (so the sorted children are in sequence order), value
 * the event as JSON. The node's own value is the last sequence number allocated (JSON string).
 */
export const UNINSTALL_EVENTS = "UninstallEvents";

/** Digits of a stored event's name: 20 fits every uint64. */
export const UNINSTALL_EVENT_DIGITS = 20;

export function uninstallEventPath(sequence: bigint): string {
  return `${UNINSTALL_EVENTS}/${sequence.toString().padStart(UNINSTALL_EVENT_DIGITS, "0")}`;
}
