/**
 * The durable marker of a migration written in several multis (node `Migration`): which
 * service and backup it is for and how far it got, so the next start finishes it.
 *
 * - `copy`: SchemaVersion is still 1; the schema-1 nodes are intact and being copied into the
 *   backup and `Services/<service>`. Redoing every copy is safe (same sources, same values).
 * - `delete`: the copies are complete and SchemaVersion is 2 (written in the same multi as
 *   this phase); the schema-1 originals are being deleted. The last delete removes the marker.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { Persister, PersisterOp } from "../ports.js";
import { decodeText, encodeJson } from "./codec.js";
import { BACKUP_PREFIX, MIGRATION } from "./layout.js";

export type MigrationPhase = "copy" | "delete";

export interface MigrationMarker {
  /** The migrated service's name (the framework name). */
  readonly service: string;
  /** The backup node being written (`backup-…`). */
  readonly backup: string;
  readonly phase: MigrationPhase;
}

/** The op that stores `marker`. */
export function markerOp(marker: MigrationMarker): PersisterOp {
  return { kind: "set", path: MIGRATION, data: encodeJson(marker) };
}

/** The stored marker, if any. @throws failed_precondition when it is not one of ours. */
export async function readMarker(persister: Persister): Promise<MigrationMarker | undefined> {
  const stored = await persister.get(MIGRATION);
  if (!stored) return undefined;
  const text = decodeText(stored.data);
  const marker = parseMarker(text);
  if (!marker) {
    throw new SchedulerError(
      "failed_precondition",
      `the store's '${MIGRATION}' node holds '${text.slice(0, 200)}', not a migration marker: ` +
        "this store was changed by hand or is damaged; remove the node if no migration is under way",
    );
  }
  return marker;
}

function parseMarker(text: string): MigrationMarker | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { service, backup, phase } = value as Record<string, unknown>;
  const ok =
    typeof service === "string" &&
    service !== "" &&
    typeof backup === "string" &&
    backup.startsWith(BACKUP_PREFIX) &&
    !backup.includes("/") &&
    (phase === "copy" || phase === "delete");
  return ok ? { service, backup, phase } : undefined;
}
