/**
 * The manual rollback of a migration (§3.10): a backup restored as the schema-1 root of a mono
 * scheduler. Only a multi store (SchemaVersion 2) whose framework-named service is stored, not
 * being removed and alone is restored: a second restore over a mono store that ran since would
 * overwrite its live state with the old backup. One multi when it fits; else a `Restore` marker
 * first, so a re-run finishes the same restore, and the marker goes with SchemaVersion 1.
 */
import { SchedulerError } from "../../domain/errors.js";
import { escapeServiceName } from "../../domain/names.js";
import type { Persister, PersisterOp } from "../ports.js";
import { emptiedParentOps, listBackups } from "./backups.js";
import { decodeText, encodeJson, encodeText } from "./codec.js";
import { BACKUP_PREFIX, MIGRATION, RESTORE, SCHEMA_VERSION, SERVICE_LIST, contextPath, schema1Nodes, serviceListEntry, serviceRoot } from "./layout.js";
import { readMarker } from "./migration-marker.js";
import { getMany } from "./read-many.js";
import { copyOps, deleteEachOps, opBytes, readTree, writePacked } from "./tree.js";

/** Restores `backup` (default: the newest; with a `Restore` marker: the marker's). The scheduler must be stopped. */
export async function restoreStoredBackup(persister: Persister, frameworkName: string, backup: string | undefined, maxMultiBytes: number): Promise<{ restored: string }> {
  const [pending, version] = await Promise.all([readRestoreMarker(persister), persister.get(SCHEMA_VERSION)]);
  if (pending !== undefined && backup !== undefined && backup !== pending) {
    throw new SchedulerError("failed_precondition", `a restore of '${pending}' is unfinished: run --restore-backup ${pending} (or without a name) to finish it first`);
  }
  const chosen = pending ?? (await chooseBackup(persister, backup));
  if (pending === undefined) await refuseUnrestorable(persister, frameworkName, version && decodeText(version.data));

  const roots = schema1Nodes(frameworkName).map((n) => n.root);
  const [saved, current, migrated] = await Promise.all([
    readTree(persister, chosen),
    Promise.all(roots.map((r) => readTree(persister, r))),
    Promise.all([serviceRoot(frameworkName), serviceListEntry(frameworkName)].map((p) => readTree(persister, p))),
  ]);
  // Whatever the root holds of the service goes, the backup comes back, the migrated copy goes.
  const body = [...deleteEachOps(current.flat()), ...copyOps(saved.slice(1), `${chosen}/`, ""), ...deleteEachOps(migrated.flat())];
  const parents = await emptiedParentOps(persister, frameworkName);
  const finish: PersisterOp[] = [
    ...parents,
    { kind: "set", path: SCHEMA_VERSION, data: encodeText("1") },
    { kind: "delete", path: MIGRATION },
    { kind: "delete", path: RESTORE },
  ];
  const guard: PersisterOp[] = version ? [{ kind: "check", path: SCHEMA_VERSION, version: version.version }] : [];
  const all = [...guard, ...body, ...finish];
  if (all.reduce((sum, op) => sum + opBytes(op), 0) <= maxMultiBytes) {
    await persister.multi(all);
    return { restored: chosen };
  }
  if (pending === undefined) await persister.multi([...guard, { kind: "set", path: RESTORE, data: encodeJson({ backup: chosen }) }]);
  await writePacked(persister, body, maxMultiBytes);
  await persister.multi(finish);
  return { restored: chosen };
}

/** The backup of an unfinished restore (node `Restore`), if any. @throws failed_precondition when it is not one of ours. */
export async function readRestoreMarker(persister: Persister): Promise<string | undefined> {
  const stored = await persister.get(RESTORE);
  if (!stored) return undefined;
  const text = decodeText(stored.data);
  let backup: unknown;
  try {
    backup = (JSON.parse(text) as { backup?: unknown } | null)?.backup;
  } catch {
    backup = undefined;
  }
  if (typeof backup === "string" && backup.startsWith(BACKUP_PREFIX) && !backup.includes("/")) return backup;
  throw new SchedulerError(
    "failed_precondition",
    `the store's '${RESTORE}' node holds '${text.slice(0, 200)}', not a restore marker: this store was changed by hand or is damaged; remove the node if no restore is under way`,
  );
}

/** A restore starts only from a multi store whose framework-named service is all there is, and not being removed. */
async function refuseUnrestorable(persister: Persister, frameworkName: string, version: string | undefined): Promise<void> {
  const marker = await readMarker(persister);
  if (marker?.phase === "copy") {
    throw new SchedulerError(
      "failed_precondition",
      `a migration to schema 2 is unfinished (its backup '${marker.backup}' is still being written) and the schema-1 nodes are still in place: ` +
        "start the scheduler in static mode to finish it, or in mono mode to undo it",
    );
  }
  if (version === "1") throw new SchedulerError("failed_precondition", "the store is already a mono store (schema 1); nothing to restore");
  if (version !== "2") {
    throw new SchedulerError("failed_precondition", `the store's SchemaVersion is ${version === undefined ? "missing" : `'${version.slice(0, 100)}'`}, not 2: only a multi store (schema 2) is restored`);
  }
  const mine = escapeServiceName(frameworkName);
  const [listed, [context, removal]] = await Promise.all([
    persister.children(SERVICE_LIST),
    getMany(persister, [contextPath(frameworkName), `${serviceListEntry(frameworkName)}/Removal`]),
  ]);
  if (!context) {
    throw new SchedulerError("failed_precondition", `the store holds no service '${frameworkName}' (it was removed, or the framework name is not the migrated one): nothing to restore it over`);
  }
  if (removal) {
    throw new SchedulerError("failed_precondition", `the service '${frameworkName}' is being removed: its tasks are killed and its reservations released, so its backup no longer matches the cluster; let the removal finish`);
  }
  const others = listed.filter((name) => name !== mine);
  if (others.length > 0) {
    throw new SchedulerError(
      "failed_precondition",
      `the store holds services besides '${frameworkName}' (${others.join(", ")}): a mono scheduler would leave them, and their tasks, unmanaged. ` +
        `Remove them first: start in static mode with only ${frameworkName}'s spec file, wait until \`corral list\` shows only ${frameworkName}, stop it, then restore`,
    );
  }
}

/** The backup named (indexed, or a reference-made one at the root), or the newest. */
async function chooseBackup(persister: Persister, backup: string | undefined): Promise<string> {
  const names = await listBackups(persister);
  const chosen = backup ?? names.at(-1);
  if (chosen === undefined) throw new SchedulerError("not_found", "this store has no backup: backups are made by a migration from a mono store (schema 1)");
  // A backup named explicitly may be one the index does not know (made by the reference scheduler).
  const there = names.includes(chosen) || (chosen.startsWith(BACKUP_PREFIX) && !chosen.includes("/") && (await persister.get(chosen)) !== undefined);
  if (!there) throw new SchedulerError("not_found", `no backup '${chosen}' in this store; its backups are: ${names.join(", ") || "none"}`);
  return chosen;
}
