/**
 * The store's schema version (dcos-commons §2.4) checked, written or migrated at start, before
 * any service is built: each mode needs its own version, and only static mode migrates 1 → 2.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { SchemaVersion, ServiceMode } from "../admin-api.js";
import type { Logger, Persister } from "../ports.js";

export interface SchemaCheck {
  readonly mode: ServiceMode;
  readonly frameworkName: string;
  /** Static mode: the names of the static set's services (a migration needs one named like the framework). */
  readonly staticNames?: readonly string[];
  /** Epoch ms: names the migration's backup node. */
  readonly nowMs: number;
  readonly log: Logger;
}

export interface SchemaOutcome {
  readonly version: SchemaVersion;
  /** Set when this start migrated a schema-1 store: the backup node's name (`backup-…`). */
  readonly migratedBackup?: string;
}

/**
 * Missing version: written (1 for mono, 2 otherwise). Dynamic needs 2 and refuses 1 (a
 * migration needs static mode); mono needs 1 and refuses 2; static migrates 1 → 2 when a
 * service of the set is named like the framework, else refuses. Refusals are
 * failed_precondition errors whose message says what to do.
 */
export async function ensureSchema(persister: Persister, check: SchemaCheck): Promise<SchemaOutcome> {
  void persister;
  void check;
  throw new SchedulerError("unimplemented", "ensureSchema: contract stub");
}
