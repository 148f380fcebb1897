/**
 * The migration's backups (`backup-YYYY-MM-DD-HHmmss` at the root, as the reference names them):
 * their names and index. The rollback that restores one is restore.ts.
 */
import type { Persister, PersisterOp } from "../ports.js";
import { decodeText, encodeJson } from "./codec.js";
import { escapeServiceName } from "../../domain/names.js";
import { BACKUPS, BACKUP_PREFIX, SERVICES, SERVICE_LIST } from "./layout.js";
import { getMany } from "./read-many.js";

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
