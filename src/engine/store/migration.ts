/**
 * The one-way migration mono (schema 1) → multi (schema 2), §3.10, made atomic: one multi when
 * it fits, else a durable marker so a crash at any write resumes on the next start. And the
 * manual rollback: a backup restored as schema 1.
 *
 * The backup holds every schema-1 node of the service (layout.ts `schema1Nodes`) under its root
 * name; the copy goes to `Services/<escaped>/…` and `ServiceList/<escaped>/Context|Removal`.
 * Missing source nodes are skipped (the reference fails on them, hazard 12).
 */
import { SchedulerError } from "../../domain/errors.js";
import type { Persister, PersisterOp } from "../ports.js";
import { decodeText, encodeText } from "./codec.js";
import { MIGRATION, SCHEMA_VERSION, schema1Nodes, serviceListEntry, serviceRoot } from "./layout.js";
import { backupIndexOp, backupName, listBackups as listStoredBackups, readBackupIndex } from "./backups.js";
import { restoreStoredBackup } from "./restore.js";
import { markerOp, readMarker } from "./migration-marker.js";
import type { MigrationMarker } from "./migration-marker.js";
import { copyOps, deleteEachOps, opBytes, packOps, readTree, treeDeleteBytes, writePacked } from "./tree.js";
import type { TreeNode } from "./tree.js";

export interface MigrationOptions {
  /**
   * Largest multi the migration writes at once, counted as paths + values + a fixed overhead
   * per op (tree.ts `opBytes`); a larger migration goes with a marker, in multis of this size.
   * @default the store's own `maxMultiBytes` (ZooKeeper: under its request limit), else no limit
   */
  readonly maxMultiBytes?: number;
}

/** The multi budget: the one given, else the store's (SQLite and memory have none: one transaction). */
export function multiBudget(persister: Persister, options: MigrationOptions = {}): number {
  return options.maxMultiBytes ?? persister.maxMultiBytes ?? Number.POSITIVE_INFINITY;
}

/**
 * Migrates the schema-1 root into `Services/<framework name>`; returns the backup node's name.
 * Finishes an interrupted one instead when a marker is found. Give it the store itself, never
 * the mono view (which maps `Services/<framework name>` back to the root).
 */
export async function migrateMonoToMulti(persister: Persister, frameworkName: string, nowMs: number, options: MigrationOptions = {}): Promise<{ backup: string }> {
  const max = multiBudget(persister, options);
  const marker = await readMarker(persister);
  if (marker) {
    await resumeMigration(persister, marker, options);
    return { backup: marker.backup };
  }
  const version = await persister.get(SCHEMA_VERSION);
  if (!version || decodeText(version.data) !== "1") {
    throw new SchedulerError("failed_precondition", "only a mono store (SchemaVersion 1) is migrated to schema 2");
  }
  const backup = backupName(nowMs);
  const targets = [backup, serviceRoot(frameworkName), serviceListEntry(frameworkName)];
  const [sources, stale, index] = await Promise.all([
    readSources(persister, frameworkName),
    Promise.all(targets.map((p) => readTree(persister, p))),
    readBackupIndex(persister),
  ]);
  // Whatever an earlier attempt left under the targets goes first: the result is the copy alone.
  const clear = targets.map((path): PersisterOp => ({ kind: "delete", path }));
  const copies = copyAll(sources, frameworkName, backup);
  const finish: PersisterOp[] = [
    ...schema1Nodes(frameworkName).map(({ root }): PersisterOp => ({ kind: "delete", path: root })),
    { kind: "set", path: SCHEMA_VERSION, data: encodeText("2") },
    backupIndexOp(index, backup),
  ];
  const guard: PersisterOp = { kind: "check", path: SCHEMA_VERSION, version: version.version };
  const bytes = treeDeleteBytes(stale.flat()) + treeDeleteBytes(sources.flat()) + [guard, ...copies, ...finish].reduce((sum, op) => sum + opBytes(op), 0);
  if (bytes <= max) {
    await persister.multi([guard, ...clear, ...copies, ...finish]);
    return { backup };
  }
  await writePacked(persister, deleteEachOps(stale.flat()), max);
  const started: MigrationMarker = { service: frameworkName, backup, phase: "copy" };
  await persister.multi([guard, markerOp(started)]);
  await resumeMigration(persister, started, options);
  return { backup };
}

/**
 * Finishes the migration `marker` describes (migration-marker.ts): the copies again from the
 * intact originals, then SchemaVersion 2 with the marker's last phase, then the originals'
 * deletion, the marker going with the last of it.
 */
export async function resumeMigration(persister: Persister, marker: MigrationMarker, options: MigrationOptions = {}): Promise<void> {
  const max = multiBudget(persister, options);
  if (marker.phase === "copy") {
    const [sources, index] = await Promise.all([readSources(persister, marker.service), readBackupIndex(persister)]);
    await writePacked(persister, copyAll(sources, marker.service, marker.backup), max);
    await persister.multi([
      markerOp({ ...marker, phase: "delete" }),
      { kind: "set", path: SCHEMA_VERSION, data: encodeText("2") },
      backupIndexOp(index, marker.backup),
    ]);
  }
  const originals = (await readSources(persister, marker.service)).flat();
  for (const multi of packOps([...deleteEachOps(originals), { kind: "delete", path: MIGRATION }], max)) await persister.multi(multi);
}

/**
 * Drops a migration still copying (phase `copy`: the originals and SchemaVersion 1 are intact),
 * for a mono start: its partial backup goes, then the marker. What it copied under
 * `Services/<service>` and `ServiceList/<service>` stays: ensureSchema may run through the mono
 * view (mono-layout.ts), which maps those paths to the root nodes and hides what the store
 * holds there, and the next migration clears it before copying.
 */
export async function abandonMigration(persister: Persister, marker: MigrationMarker, options: MigrationOptions = {}): Promise<void> {
  if (marker.phase !== "copy") throw new SchedulerError("failed_precondition", "a migration past its copies (SchemaVersion 2) cannot be undone");
  const max = multiBudget(persister, options);
  const partial = await readTree(persister, marker.backup);
  for (const multi of packOps([...deleteEachOps(partial), { kind: "delete", path: MIGRATION }], max)) await persister.multi(multi);
}

/** The backup nodes (`backup-…`), oldest first. */
export async function listBackups(persister: Persister): Promise<string[]> {
  return listStoredBackups(persister);
}

/**
 * Manual rollback: the backup (default: the newest) copied back to the root, the migrated
 * service removed from `Services/` and `ServiceList/`, SchemaVersion 1 (restore.ts: refused
 * unless the store is a multi store holding only that service; an unfinished restore is
 * finished). The scheduler must be stopped. Returns the backup restored.
 */
export async function restoreBackup(persister: Persister, frameworkName: string, backup?: string, options: MigrationOptions = {}): Promise<{ restored: string }> {
  return restoreStoredBackup(persister, frameworkName, backup, multiBudget(persister, options));
}

/** The schema-1 nodes of `service`, one tree per node (empty when missing). */
function readSources(persister: Persister, service: string): Promise<TreeNode[][]> {
  return Promise.all(schema1Nodes(service).map(({ root }) => readTree(persister, root)));
}

/** Every source node into the backup (under its root name), then into its schema-2 place. */
function copyAll(sources: readonly TreeNode[][], service: string, backup: string): PersisterOp[] {
  const nodes = schema1Nodes(service);
  const toBackup = sources.flatMap((tree) => copyOps(tree, "", `${backup}/`));
  const toSchema2 = sources.flatMap((tree, i) => copyOps(tree, nodes[i]!.root, nodes[i]!.schema2));
  return [...toBackup, ...toSchema2];
}
