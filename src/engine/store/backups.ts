/**
 * The migration's backups (`backup-YYYY-MM-DD-HHmmss` at the root, as the reference names them)
 * and the manual rollback: a backup restored as the schema-1 root of a mono scheduler.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { Persister, PersisterOp } from "../ports.js";
import { decodeText, encodeJson, encodeText } from "./codec.js";
import { escapeServiceName } from "../../domain/names.js";
import { BACKUPS, BACKUP_PREFIX, MIGRATION, SCHEMA_VERSION, SERVICES, SERVICE_LIST, schema1Nodes, serviceListEntry, serviceRoot } from "./layout.js";
import { readMarker } from "./migration-marker.js";
import { getMany } from "./read-many.js";
import { copyOps, deleteEachOps, opBytes, readTree, treeDeleteBytes, writePacked } from "./tree.js";

/** The backup's name for a migration at `nowMs`: UTC, so it does not depend on the host's zone. */
export function backupName(nowMs: number): string {
  const iso = new Date(nowMs).toISOString(); // 2026-12-05T01:02:03.456Z
  return `${BACKUP_PREFIX}${iso.slice(0, 10)}-${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
}

/** The names in the backup index, oldest first (an unreadable index counts as empty). */
export async function readBackupIndex(persister: Persister): Promise<string[]> {
  const stored = await persister.get(BACKUPS);
  if (!stored) return [];
  try {
    const value: unknown = JSON.parse(decodeText(stored.data));
    return Array.isArray(value) ? value.filter((n): n is string => typeof n === "string" && n.startsWith(BACKUP_PREFIX)).sort() : [];
  } catch {
    return [];
  }
}

/** The op that lists `backup` in the index `names` (once). */
export function backupIndexOp(names: readonly string[], backup: string): PersisterOp {
  return { kind: "set", path: BACKUPS, data: encodeJson([...new Set([...names, backup])].sort()) };
}

/** The backup nodes (`backup-…`), oldest first: the indexed ones that still exist. */
export async function listBackups(persister: Persister): Promise<string[]> {
  const names = await readBackupIndex(persister);
  const nodes = await getMany(persister, names);
  return names.filter((_, i) => nodes[i] !== undefined);
}

/**
 * Manual rollback: the backup (default: the newest) copied back to the root, the migrated
 * service removed from `Services/` and `ServiceList/`, SchemaVersion 1, the backup kept. The
 * scheduler must be stopped. One multi when it fits in `maxMultiBytes`; else several, and an
 * interrupted restore is finished by running it again.
 */
export async function restoreStoredBackup(persister: Persister, frameworkName: string, backup: string | undefined, maxMultiBytes: number): Promise<{ restored: string }> {
  const marker = await readMarker(persister);
  if (marker?.phase === "copy") {
    throw new SchedulerError(
      "failed_precondition",
      `a migration to schema 2 is unfinished (its backup '${marker.backup}' is still being written) and the schema-1 nodes are still in place: ` +
        "start the scheduler in static mode to finish it, or in mono mode to undo it",
    );
  }
  const names = await listBackups(persister);
  const chosen = backup ?? names.at(-1);
  if (chosen === undefined) throw new SchedulerError("not_found", "this store has no backup: backups are made by a migration from a mono store (schema 1)");
  if (!names.includes(chosen)) throw new SchedulerError("not_found", `no backup '${chosen}' in this store; its backups are: ${names.join(", ") || "none"}`);

  const roots = schema1Nodes(frameworkName).map((n) => n.root);
  const [saved, current, migrated, parents] = await Promise.all([
    readTree(persister, chosen),
    Promise.all(roots.map((r) => readTree(persister, r))),
    Promise.all([serviceRoot(frameworkName), serviceListEntry(frameworkName)].map((p) => readTree(persister, p))),
    emptiedParentOps(persister, frameworkName),
  ]);
  const copies = copyOps(saved.slice(1), `${chosen}/`, "");
  const version: PersisterOp[] = [
    { kind: "set", path: SCHEMA_VERSION, data: encodeText("1") },
    { kind: "delete", path: MIGRATION },
  ];
  const migratedPaths = [serviceRoot(frameworkName), serviceListEntry(frameworkName)];
  const oneBytes =
    treeDeleteBytes(current.flat()) + treeDeleteBytes(migrated.flat()) + [...copies, ...version].reduce((sum, op) => sum + opBytes(op), 0);
  if (oneBytes <= maxMultiBytes) {
    await persister.multi([
      ...roots.map((path): PersisterOp => ({ kind: "delete", path })),
      ...copies,
      ...version,
      ...migratedPaths.map((path): PersisterOp => ({ kind: "delete", path })),
      ...parents,
    ]);
  } else {
    // Schema 1 is written only once the root holds the whole backup again.
    await writePacked(persister, [...deleteEachOps(current.flat()), ...copies], maxMultiBytes);
    await persister.multi(version);
    await writePacked(persister, [...deleteEachOps(migrated.flat()), ...parents], maxMultiBytes);
  }
  return { restored: chosen };
}

/**
 * Deletes of `Services` and `ServiceList` where `service` is all they hold: a schema-1 store
 * has neither, so taking the service away leaves no empty parent behind. Put them after the
 * service's own deletes.
 */
export async function emptiedParentOps(persister: Persister, service: string): Promise<PersisterOp[]> {
  const escaped = escapeServiceName(service);
  const parents = [SERVICES, SERVICE_LIST];
  const [listed, values] = await Promise.all([Promise.all(parents.map((p) => persister.children(p))), getMany(persister, parents)]);
  return parents
    .filter((_, i) => values[i] !== undefined && listed[i]!.every((n) => n === escaped))
    .map((path): PersisterOp => ({ kind: "delete", path }));
}
