/**
 * The store's schema version (dcos-commons §2.4) checked, written or migrated at start, before
 * any service is built: each mode needs its own version, and only static mode migrates 1 → 2.
 * A migration interrupted between its multis (a `Migration` marker) is finished here first.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { SchemaVersion, ServiceMode } from "../admin-api.js";
import type { Logger, Persister } from "../ports.js";
import { decodeJson, decodeText, encodeText } from "./codec.js";
import { RESTORE, SCHEMA1_LIST_NODES, SCHEMA_VERSION } from "./layout.js";
import { readMarker } from "./migration-marker.js";
import type { MigrationMarker } from "./migration-marker.js";
import { abandonMigration, migrateMonoToMulti, resumeMigration } from "./migration.js";
import type { MigrationOptions } from "./migration.js";
import { readRestoreMarker } from "./restore.js";

export interface SchemaCheck {
  readonly mode: ServiceMode;
  readonly frameworkName: string;
  /** Static mode: the names of the static set's services (a migration needs one named exactly like the framework). */
  readonly staticNames?: readonly string[];
  /** Epoch ms: names the migration's backup node. */
  readonly nowMs: number;
  readonly log: Logger;
  /** The migration's multi size (tests force the marker path with a small one). */
  readonly migration?: MigrationOptions;
}

export interface SchemaOutcome {
  readonly version: SchemaVersion;
  /** Set when this start migrated a schema-1 store: the backup node's name (`backup-…`). */
  readonly migratedBackup?: string;
}

/**
 * Missing version: written (1 for mono, 2 otherwise). Dynamic needs 2 and refuses 1 (a
 * migration needs static mode); mono needs 1 and refuses 2; static migrates 1 → 2 when a
 * service of the set is named exactly like the framework, else refuses. Refusals are
 * failed_precondition errors whose message says what to do.
 */
export async function ensureSchema(persister: Persister, check: SchemaCheck): Promise<SchemaOutcome> {
  const [stored, marker, restoring] = await Promise.all([persister.get(SCHEMA_VERSION), readMarker(persister), readRestoreMarker(persister)]);
  if (restoring !== undefined) {
    throw new SchedulerError(
      "failed_precondition",
      `a restore of the backup '${restoring}' is unfinished (node '${RESTORE}'): the store is half multi, half mono; run --restore-backup again (the scheduler stopped) to finish it`,
    );
  }
  const version = stored ? parseVersion(decodeText(stored.data)) : undefined;
  if (marker) return finishInterrupted(persister, check, marker, version);
  if (version === undefined) {
    const wanted: SchemaVersion = check.mode === "mono" ? 1 : 2;
    await persister.multi([{ kind: "set", path: SCHEMA_VERSION, data: encodeText(String(wanted)) }]);
    check.log.info({ schemaVersion: wanted }, "new store: schema version written");
    return { version: wanted };
  }
  if (version === 2) {
    if (check.mode === "mono") throw refuseMono();
    return { version };
  }
  await mustBeThisFrameworks(persister, check.frameworkName);
  if (check.mode === "mono") return { version };
  if (check.mode === "dynamic") throw refuseDynamic(check.frameworkName);
  if (!namedLikeFramework(check)) throw refuseStatic(check);
  const { backup } = await migrateMonoToMulti(persister, check.frameworkName, check.nowMs, check.migration);
  check.log.info({ backup, service: check.frameworkName }, "migrated the mono store to schema 2; the schema-1 nodes are kept in the backup");
  return { version: 2, migratedBackup: backup };
}

/** A marker found: the migration is finished (or, by a mono start while it was still copying, dropped). */
async function finishInterrupted(persister: Persister, check: SchemaCheck, marker: MigrationMarker, version: SchemaVersion | undefined): Promise<SchemaOutcome> {
  if (marker.service !== check.frameworkName) {
    // The migration copies into Services/<marker's service>: under another framework name, a service the static set does not name.
    throw new SchedulerError(
      "failed_precondition",
      `the store holds an unfinished migration of the service '${marker.service}' (node 'Migration'), but the framework name is '${check.frameworkName}': ` +
        `start with --framework-name ${marker.service} to finish it, or point the scheduler at its own store`,
    );
  }
  const expected: SchemaVersion = marker.phase === "copy" ? 1 : 2;
  if (version !== expected) {
    throw new SchedulerError(
      "failed_precondition",
      `the store holds an unfinished migration (node 'Migration', phase ${marker.phase}) but SchemaVersion is ${version ?? "missing"}, not ${expected}: ` +
        `this store was changed by hand; restore a backup with --restore-backup or repair the nodes`,
    );
  }
  if (marker.phase === "copy") {
    if (check.mode === "mono") {
      await abandonMigration(persister, marker, check.migration);
      check.log.warn({ backup: marker.backup }, "dropped a migration to schema 2 interrupted while copying: the mono store's nodes are untouched; a static start migrates afresh");
      return { version: 1 };
    }
    if (check.mode === "dynamic") throw refuseDynamic(check.frameworkName);
    if (!namedLikeFramework(check)) throw refuseStatic(check);
  } else if (check.mode === "mono") {
    throw refuseMono();
  }
  await resumeMigration(persister, marker, check.migration);
  check.log.info({ backup: marker.backup, service: marker.service }, "finished an interrupted migration to schema 2");
  return { version: 2, migratedBackup: marker.backup };
}

/**
 * A mono store is one framework's: its service is named like the framework (the root node
 * `ServiceContext` says which). Under another framework name, a mono start would write a second
 * service over it and a migration would move it to a service no file names.
 */
async function mustBeThisFrameworks(persister: Persister, frameworkName: string): Promise<void> {
  const node = await persister.get(SCHEMA1_LIST_NODES["Context"]!);
  if (!node) return;
  let name: unknown;
  try {
    name = decodeJson<{ name?: unknown }>(node.data).name;
  } catch {
    return; // undecodable: the service is quarantined at recovery, as any such context
  }
  if (typeof name === "string" && name !== frameworkName) {
    throw new SchedulerError(
      "failed_precondition",
      `this mono store (SchemaVersion 1) belongs to the framework '${name}', not '${frameworkName}': start with --framework-name ${name}, or point the scheduler at its own store`,
    );
  }
}

/** SchemaVersion's value (UTF-8 decimal): 1 or 2. @throws failed_precondition for anything else. */
function parseVersion(text: string): SchemaVersion {
  if (text === "1" || text === "2") return Number(text) as SchemaVersion;
  const shown = text === "" ? "nothing" : `'${text.slice(0, 100)}'`;
  throw new SchedulerError(
    "failed_precondition",
    `the store's SchemaVersion node holds ${shown}, not 1 (mono) or 2 (multi-service): ` +
      "this store was written by another program or is damaged; point the scheduler at its own store",
  );
}

/** Exactly the framework name: the migrated service keeps it (its context), and the static set matches names exactly. */
function namedLikeFramework(check: SchemaCheck): boolean {
  return (check.staticNames ?? []).includes(check.frameworkName);
}

function refuseDynamic(framework: string): SchedulerError {
  return new SchedulerError(
    "failed_precondition",
    "this store holds a mono scheduler's state (SchemaVersion 1), which dynamic mode does not read: " +
      `a mono store is migrated by starting in static mode with a service named '${framework}' (--mode static --services …), ` +
      "or run it as before with --mode mono",
  );
}

function refuseMono(): SchedulerError {
  return new SchedulerError(
    "failed_precondition",
    "this store holds a multi-service scheduler's state (SchemaVersion 2): a multi store (schema 2) cannot go back to mono; " +
      "restore a backup with --restore-backup (the scheduler stopped; --list-backups lists them), or start in static or dynamic mode",
  );
}

function refuseStatic(check: SchemaCheck): SchedulerError {
  const names = check.staticNames ?? [];
  return new SchedulerError(
    "failed_precondition",
    `this store holds a mono scheduler's state (SchemaVersion 1): static mode migrates it only when one of its services is named like the framework, '${check.frameworkName}', ` +
      `but the files give ${names.length > 0 ? names.map((n) => `'${n}'`).join(", ") : "none"}; ` +
      `add a spec file whose service is named '${check.frameworkName}' (the mono service's spec), or keep running it with --mode mono`,
  );
}
