/**
 * Opening the scheduler's state store with its locks, shared by the scheduler (app.ts) and the
 * offline store commands (store-commands.ts), so both take the same locks on the same store and
 * a command never writes beside a running scheduler.
 */
import type pino from "pino";
import { join } from "node:path";
import type { DataDirLock } from "./adapters/file-lock.js";
import { MemoryPersister } from "./adapters/persister/memory-persister.js";
import { SqlitePersister } from "./adapters/persister/sqlite-persister.js";
import { ZkLockKeeper } from "./adapters/persister/zookeeper/zk-lock-keeper.js";
import { ZooKeeperPersister } from "./adapters/persister/zookeeper/zookeeper-persister.js";
import { escapeServiceName } from "./domain/names.js";
import type { ResolvedOptions } from "./config.js";
import type { Persister, WriteFence } from "./engine/ports.js";

/** The SQLite store's file in the data directory. */
export const SQLITE_FILE = "corral.db";

/** The data directory holds the SQLite store and the local cluster's tasks: one scheduler each. */
export function usesDataDir(options: Pick<ResolvedOptions, "store" | "cluster">): boolean {
  return options.store === "sqlite" || options.cluster === "local";
}

/**
 * A ZooKeeper store's schedulers are replicas: its election decides who leads, so they share a
 * data directory (and its local agent), holding it shared (`sharesDataDir`), not locked.
 */
export function isReplicated(options: Pick<ResolvedOptions, "store">): boolean {
  return options.store.startsWith("zk://");
}

/** Takes the data-directory lock: SQLite's fence, and one scheduler per local cluster, unless replicated. */
export function takesDataDirLock(options: Pick<ResolvedOptions, "store" | "cluster">): boolean {
  return usesDataDir(options) && !isReplicated(options);
}

/** Holds the data directory shared (file-lock.ts): replicas beside each other, never beside a scheduler with a store of its own. */
export function sharesDataDir(options: Pick<ResolvedOptions, "store" | "cluster">): boolean {
  return usesDataDir(options) && isReplicated(options);
}

/** The state store and the lock that fences its writes (ZooKeeper's lock node, SQLite's data-directory lock). */
export interface OpenStore {
  readonly persister: Persister;
  readonly fence?: WriteFence;
  /** A replica's election (ZooKeeper, `campaign` given): who leads, and why it last stopped. */
  readonly election?: ZkLockKeeper;
  release(): Promise<void>;
}

/**
 * Opens the store; `dirLock` (held by the caller when takesDataDirLock) fences SQLite's writes.
 * With `campaign` a ZooKeeper store joins the election and returns at once (a standby until it
 * leads); without, its lock is taken now (refused, or waited for up to --wait-for-lock).
 */
export async function openStore(
  options: ResolvedOptions,
  logger: pino.Logger,
  signal: AbortSignal | undefined,
  dirLock: DataDirLock | undefined,
  campaign?: { readonly address: string },
): Promise<OpenStore> {
  if (options.store === "memory") return { persister: new MemoryPersister(), release: async () => undefined };
  if (options.store.startsWith("zk://")) {
    // One root per scheduler, named like the reference's (§2.3): <chroot>/dcos-service-<name>.
    const root = `dcos-service-${escapeServiceName(options.frameworkName)}`;
    let keeper: ZkLockKeeper | undefined;
    const persister = await ZooKeeperPersister.open(`${options.store.replace(/\/+$/, "")}/${root}`, {
      ...(options.zkSessionTimeoutMs !== undefined ? { sessionTimeoutMs: options.zkSessionTimeoutMs } : {}),
      onEvent: (event) => keeper?.onSessionEvent(event),
    });
    if (campaign) {
      const election = ZkLockKeeper.campaign(persister, logger, { address: campaign.address });
      keeper = election;
      return { persister, fence: election, election, release: () => election.release() };
    }
    try {
      keeper = await ZkLockKeeper.acquire(persister, logger, { waitMs: options.waitForLockMs, ...(signal ? { signal } : {}) });
      return { persister, fence: keeper, release: () => keeper!.release() };
    } catch (err) {
      await persister.close();
      throw err;
    }
  }
  // The data directory's lock is the SQLite store's fence: each write transaction checks it too.
  const persister = SqlitePersister.open(join(options.dataDir, SQLITE_FILE), dirLock ? { fence: dirLock } : {});
  return { persister, ...(dirLock ? { fence: dirLock } : {}), release: async () => undefined };
}
