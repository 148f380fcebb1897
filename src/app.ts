/**
 * Builds a running Corral from resolved options: the adapters, the scheduler and the gRPC
 * server. Shared by `main.ts`, the end-to-end tests and the benchmarks so they run the same
 * wiring the user runs.
 */
import type pino from "pino";
import { CryptoRandom, SystemClock } from "./adapters/clock.js";
import { LocalCluster } from "./adapters/cluster/local/local-cluster.js";
import { thisMachine } from "./adapters/cluster/local/this-machine.js";
import { SimulatedCluster } from "./adapters/cluster/simulated-cluster.js";
import { loadApiSecurity } from "./adapters/grpc/auth.js";
import { AdminServer } from "./adapters/grpc/server.js";
import { join } from "node:path";
import { acquireDataDirLock } from "./adapters/persister/file-lock.js";
import { MemoryPersister } from "./adapters/persister/memory-persister.js";
import { SqlitePersister } from "./adapters/persister/sqlite-persister.js";
import { ZkLockKeeper } from "./adapters/persister/zookeeper/zk-lock-keeper.js";
import { ZooKeeperPersister } from "./adapters/persister/zookeeper/zookeeper-persister.js";
import { SpecWorkerPool, pooledServiceFactory } from "./adapters/spec-worker/pool.js";
import { escapeServiceName } from "./domain/names.js";
import type { ResolvedOptions } from "./config.js";
import type { ClusterDriver, Persister, WriteFence } from "./engine/ports.js";
import { DEFAULT_RUNNER_OPTIONS, MultiServiceScheduler } from "./engine/scheduler.js";
import { specServiceFactory } from "./engine/service-factory.js";

export interface Corral {
  readonly scheduler: MultiServiceScheduler;
  readonly server: AdminServer;
  readonly cluster: ClusterDriver;
  readonly persister: Persister;
  /** The address the API listens on (port resolved when 0 was asked for). */
  readonly address: string;
  /** Settles once a whole-scheduler uninstall (`options.uninstall`) has finished. */
  readonly uninstalled: Promise<void>;
  stop(): Promise<void>;
}

export async function startCorral(options: ResolvedOptions, logger: pino.Logger): Promise<Corral> {
  // API security first: a refused listen address or a bad token/TLS file stops before the store opens.
  const security = loadApiSecurity(options.listen, options);
  const clock = new SystemClock({ unref: false });
  const random = new CryptoRandom();
  // The data directory holds the SQLite store and the local cluster's tasks: one scheduler each.
  const needsDir = options.store === "sqlite" || options.cluster === "local";
  const dirLock = needsDir ? await acquireDataDirLock(options.dataDir, { waitMs: options.waitForLockMs }) : undefined;
  let store: OpenStore;
  try {
    store = await openStore(options, logger);
  } catch (err) {
    await dirLock?.release();
    throw err;
  }
  const { persister, fence, release } = store;
  const cluster = openCluster(options, clock, random, logger);
  let markUninstalled = (): void => undefined;
  const uninstalled = new Promise<void>((resolve) => (markUninstalled = resolve));
  // PutService specs are built in worker threads (started on first use); recovery builds inline.
  const specPool =
    options.specWorkers > 0
      ? new SpecWorkerPool({ size: options.specWorkers, fallback: specServiceFactory, log: logger.child({ component: "spec-workers" }) })
      : undefined;
  const scheduler = new MultiServiceScheduler(
    {
      persister,
      ...(specPool ? { factory: pooledServiceFactory(specPool, specServiceFactory) } : {}),
      driver: cluster,
      clock,
      random,
      log: logger,
      ...(fence ? { fence } : {}),
      onUninstalled: () => {
        server.setServing(false);
        markUninstalled();
      },
    },
    {
      ...DEFAULT_RUNNER_OPTIONS,
      framework: { name: options.frameworkName, role: options.role, principal: options.principal },
      removalTimeoutMs: options.serviceRemovalTimeoutMs,
      uninstall: options.uninstall,
      events: { maxEvents: options.eventRetention, maxAgeMs: options.eventMaxAgeMs },
    },
  );
  // Made before start(): a scheduler that finds nothing to uninstall reports it at once.
  const server = new AdminServer({ api: scheduler, logger, ...security });
  await scheduler.start();
  const { host, port } = await server.listen(options.listen);
  const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  logger.info({ address, cluster: options.cluster }, "corral is serving");
  return {
    scheduler,
    server,
    cluster,
    persister,
    address,
    uninstalled,
    async stop() {
      await server.stop(5000);
      await scheduler.stop();
      await specPool?.close();
      await cluster.close();
      if (cluster instanceof SimulatedCluster) cluster.stop();
      await release(); // before closing: a ZooKeeper lock node goes with its session
      await persister.close();
      await dirLock?.release();
    },
  };
}

/** The state store; the ZooKeeper one with its single-writer lock. */
interface OpenStore {
  readonly persister: Persister;
  readonly fence?: WriteFence;
  release(): Promise<void>;
}

async function openStore(options: ResolvedOptions, logger: pino.Logger): Promise<OpenStore> {
  if (options.store === "memory") return { persister: new MemoryPersister(), release: async () => undefined };
  if (options.store.startsWith("zk://")) {
    // One root per scheduler, named like the reference's (§2.3): <chroot>/dcos-service-<name>.
    const root = `dcos-service-${escapeServiceName(options.frameworkName)}`;
    let keeper: ZkLockKeeper | undefined;
    const persister = await ZooKeeperPersister.open(`${options.store.replace(/\/+$/, "")}/${root}`, {
      onEvent: (event) => keeper?.onSessionEvent(event),
    });
    try {
      keeper = await ZkLockKeeper.acquire(persister, logger, { waitMs: options.waitForLockMs });
      return { persister, fence: keeper, release: () => keeper!.release() };
    } catch (err) {
      await persister.close();
      throw err;
    }
  }
  return { persister: SqlitePersister.open(join(options.dataDir, "corral.db")), release: async () => undefined };
}

/** This machine (`local`, the default) or the in-process simulated cluster (`sim`). */
function openCluster(options: ResolvedOptions, clock: SystemClock, random: CryptoRandom, logger: pino.Logger): SimulatedCluster | LocalCluster {
  if (options.cluster === "sim") return new SimulatedCluster({ agents: options.simAgents, clock, random });
  return new LocalCluster({
    dataDir: options.dataDir,
    agents: options.localAgents,
    machine: thisMachine(options.dataDir),
    clock,
    random,
    log: logger.child({ component: "local-cluster" }),
    taskPath: options.taskPath,
    canSwitchUser: process.getuid?.() === 0,
  });
}
