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

// ---------------------------------------------------------------------------------------------
// Schema 1 (mono, dcos-commons §2.3): the one service's nodes sit directly under the root.

/**
 * The children of `Services/<escaped>/` that schema 1 keeps at the root under the same name: the
 * reference's four (ConfigTarget, Configurations, Properties, Tasks) and Corral's own.
 */
export const SCHEMA1_SERVICE_NODES: readonly string[] = ["ConfigTarget", "Configurations", "Properties", "Tasks", "PlanOverrides", "PausedPods"];

/** The children of `ServiceList/<escaped>/` and their root nodes in schema 1 (the reference has none: ours). */
export const SCHEMA1_LIST_NODES: Readonly<Record<string, string>> = { Context: "ServiceContext", Removal: "ServiceRemoval" };

/** A migration's backup of the schema-1 nodes: `backup-YYYY-MM-DD-HHmmss` (UTC) at the root, as the reference names it. */
export const BACKUP_PREFIX = "backup-";

/**
 * The finished backups' names, JSON array, oldest first: the Persister cannot list the root, so
 * `listBackups` reads this index (a backup is listed once complete).
 */
export const BACKUPS = "Backups";

/** Present while a migration too large for one multi runs: JSON `{service, backup, phase}` (store/migration-marker.ts). */
export const MIGRATION = "Migration";

/**
 * Present while a restore too large for one multi runs (store/restore.ts): JSON `{backup}`. It
 * goes in the same multi that writes SchemaVersion 1; until then every start refuses the store.
 */
export const RESTORE = "Restore";

/** One schema-1 root node of a service and its schema-2 path. */
export interface Schema1Node {
  readonly root: string;
  readonly schema2: string;
}

/** Every schema-1 root node of `service` (the mono service: the framework name) and where schema 2 keeps it. */
export function schema1Nodes(service: string): Schema1Node[] {
  return [
    ...SCHEMA1_SERVICE_NODES.map((root) => ({ root, schema2: `${serviceRoot(service)}/${root}` })),
    ...Object.entries(SCHEMA1_LIST_NODES).map(([child, root]) => ({ root, schema2: `${serviceListEntry(service)}/${child}` })),
  ];
}
