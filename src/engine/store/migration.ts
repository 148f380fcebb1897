/**
 * The one-way migration mono (schema 1) → multi (schema 2), §3.10, made atomic: one multi when
 * it fits, else a durable marker so a crash at any write resumes on the next start. And the
 * manual rollback: a backup restored as schema 1.
 */
import { SchedulerError } from "../../domain/errors.js";
import type { Persister } from "../ports.js";

export interface MigrationOptions {
  /** Largest multi (bytes of values) the migration writes at once; larger ones go with a marker. */
  readonly maxMultiBytes?: number;
}

/** Migrates the schema-1 root into `Services/<framework name>`; returns the backup node's name. */
export async function migrateMonoToMulti(persister: Persister, frameworkName: string, nowMs: number, options: MigrationOptions = {}): Promise<{ backup: string }> {
  void persister;
  void frameworkName;
  void nowMs;
  void options;
  throw new SchedulerError("unimplemented", "migrateMonoToMulti: contract stub");
}

/** The backup nodes (`backup-…`), oldest first. */
export async function listBackups(persister: Persister): Promise<string[]> {
  void persister;
  throw new SchedulerError("unimplemented", "listBackups: contract stub");
}

/**
 * Manual rollback: the backup (default: the newest) copied back to the root, the migrated
 * service removed from `Services/` and `ServiceList/`, SchemaVersion 1. The scheduler must be
 * stopped. Returns the backup restored.
 */
export async function restoreBackup(persister: Persister, frameworkName: string, backup?: string): Promise<{ restored: string }> {
  void persister;
  void frameworkName;
  void backup;
  throw new SchedulerError("unimplemented", "restoreBackup: contract stub");
}
