/**
 * The scheduler's offline store commands: `--list-backups` and `--restore-backup [name]` (the
 * manual rollback of a mono → multi migration, §3.10). They open the store exactly as the
 * scheduler would — same --store, --data-dir and --framework-name, same locks — so they refuse
 * to run beside a live scheduler, do their work, and release the store.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type pino from "pino";
import { acquireDataDirLock, acquireSharedDataDirLock } from "./adapters/file-lock.js";
import type { ResolvedOptions } from "./config.js";
import type { StoreCommand } from "./config-modes.js";
import { SchedulerError } from "./domain/errors.js";
import type { Persister } from "./engine/ports.js";
import { FencedPersister } from "./engine/store/fenced-persister.js";
import { listBackups, restoreBackup } from "./engine/store/migration.js";
import { SQLITE_FILE, openStore, sharesDataDir, takesDataDirLock } from "./store-open.js";

/**
 * Runs `command` on the configured store; returns the lines to print on stdout.
 * @throws SchedulerError (failed_precondition) when there is no store, the scheduler holds it, or the command fails
 */
export async function runStoreCommand(command: StoreCommand, options: ResolvedOptions, logger: pino.Logger, signal?: AbortSignal): Promise<string[]> {
  const where = storeName(options);
  if (options.store === "memory") throw new SchedulerError("failed_precondition", `--${command.kind}: --store memory keeps nothing between runs; name the scheduler's store (--store, --data-dir)`);
  // Opening a SQLite store creates it: a mistyped --data-dir must not leave an empty store behind.
  if (options.store === "sqlite" && !existsSync(join(options.dataDir, SQLITE_FILE))) {
    throw new SchedulerError("failed_precondition", `--${command.kind}: there is no store at ${where} (check --data-dir)`);
  }
  const wait = { waitMs: options.waitForLockMs, ...(signal ? { signal } : {}) };
  const dirLock = takesDataDirLock(options) ? await acquireDataDirLock(options.dataDir, wait) : undefined;
  // Beside replicas as a replica is (ZooKeeper's lock then refuses it beside a leader).
  const sharedHold = sharesDataDir(options) ? await acquireSharedDataDirLock(options.dataDir, wait) : undefined;
  try {
    const store = await openStore(options, logger, signal, dirLock);
    // Writes are fenced as the scheduler's are: a lock lost meanwhile refuses them.
    const persister: Persister = store.fence ? new FencedPersister(store.persister, store.fence) : store.persister;
    try {
      return await run(command, persister, options.frameworkName, where);
    } finally {
      await store.release();
      await store.persister.close();
    }
  } finally {
    await dirLock?.release();
    await sharedHold?.release();
  }
}

async function run(command: StoreCommand, persister: Persister, frameworkName: string, where: string): Promise<string[]> {
  if (command.kind === "list-backups") {
    const backups = await listBackups(persister);
    return backups.length > 0 ? backups : [`no backups in ${where}`];
  }
  // restoreBackup refuses unless the store is a multi store holding only this service, not being removed.
  const { restored } = await restoreBackup(persister, frameworkName, command.backup);
  return [
    `restored ${restored} in ${where}: the store is a mono store (schema 1) of '${frameworkName}' again; the backup is kept`,
    `start the scheduler with --mode mono --framework-name ${frameworkName} --service FILE (or migrate again with --mode static)`,
  ];
}

/** The store as the user named it: the SQLite file, or the ZooKeeper address and root. */
function storeName(options: ResolvedOptions): string {
  if (options.store === "sqlite") return resolve(options.dataDir, SQLITE_FILE);
  return options.store;
}
