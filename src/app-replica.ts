/**
 * A replica on a ZooKeeper store: it campaigns, stands by, and leads in terms.
 */
import type pino from "pino";
import type { SimulatedCluster } from "./adapters/cluster/simulated-cluster.js";
import { acquireSharedDataDirLock } from "./adapters/file-lock.js";
import type { AdminServer } from "./adapters/grpc/server.js";
import type { ZkLockKeeper } from "./adapters/persister/zookeeper/zk-lock-keeper.js";
import { openCluster } from "./app-cluster.js";
import type { Parts } from "./app-engine.js";
import { engineSetup } from "./app-engine.js";
import type { StopStep } from "./app-stop.js";
import type { ResolvedOptions } from "./config.js";
import { SchedulerError } from "./domain/errors.js";
import type { AdminApi } from "./engine/admin-api.js";
import type { StaticServiceFile } from "./engine/scheduler-parts.js";
import { RESTART_RETRY_MS, SchedulerKeeper } from "./engine/scheduler-keeper.js";
import type { Observability } from "./observability.js";
import { openStore, sharesDataDir } from "./store-open.js";

/**
 * A replica on a ZooKeeper store: joins the election and stands by (admin calls answer
 * UNAVAILABLE naming the leader, health per `setStandby`); while it leads, a term runs with a
 * new cluster driver and a fresh engine (scheduler-keeper.ts). Replicas share the data directory
 * and its local agent: they hold it shared, not locked (file-lock.ts), so a scheduler with a store
 * of its own is refused there, and a replica beside one (at once: `--wait-for-lock` does not apply).
 */
export async function startReplica(
  options: ResolvedOptions,
  staticServices: readonly StaticServiceFile[],
  logger: pino.Logger,
  server: AdminServer,
  obs: Observability,
  address: string,
  undo: StopStep[],
  signal: AbortSignal | undefined,
): Promise<Parts> {
  if (sharesDataDir(options)) {
    const hold = await acquireSharedDataDirLock(options.dataDir, signal ? { signal } : {});
    undo.push({ name: "shared data-directory hold", run: () => hold.release() });
  }
  const { persister, election, release } = await openStore(options, logger, signal, undefined, { address });
  if (!election) throw new SchedulerError("internal", "a replicated store opened without an election");
  // Leaving the election last but the store: a leader's "stepped down" line comes once its node is gone.
  const leave = async (): Promise<void> => {
    const led = election.holds();
    await release();
    if (led) logger.info({ reason: "stopping" }, "stepped down");
  };
  undo.push({ name: "store", run: () => persister.close() }, { name: "election", run: leave });
  signal?.throwIfAborted();
  const setup = engineSetup(options, staticServices, logger, server, obs, persister, election, undo);
  // The simulated cluster lives in this process: one instance across terms (a new subscription each).
  let sim: SimulatedCluster | undefined;
  if (options.cluster === "sim") {
    const made = (await openCluster(options, setup.clock, setup.random, logger)) as SimulatedCluster;
    sim = made;
    undo.push({ name: "simulated cluster", run: async () => made.stop() });
  }
  let loggedLead: string | undefined;
  const leading = (): void => {
    const node = election.lockNode();
    if (setup.isDone() || node === undefined || node === loggedLead) return;
    loggedLead = node;
    logger.info({ address, node }, "leading");
  };
  const standBy = async (): Promise<void> => {
    server.setStandby();
    obs.setRole("standby");
    const leader = await election.readLeader();
    if (!election.holds()) logger.info({ ...(leader !== undefined && leader !== address ? { leader } : {}) }, "standing by");
  };
  const keeper = SchedulerKeeper.replica(setup.deps, setup.schedulerOptions, {
    openDriver: async () => obs.wrapDriver(sim ?? (await openCluster(options, setup.clock, setup.random, logger))),
    closeDriver: (driver) => driver.close(),
    // Another replica (maybe on another machine) may be able to lead: let it try first.
    onTermFailed: (err) => election.stepAside(`could not start leading: ${err instanceof Error ? err.message : String(err)}`, RESTART_RETRY_MS),
    // "leading" comes once the store confirmed the lead, before the term subscribes and recovers:
    // the span between it and "stepped down" covers every write of the term (what a check for
    // two leaders compares).
    confirmLead: async () => {
      const leads = await election.confirmLead();
      if (leads) leading();
      return leads;
    },
    // "Framework failed over" (the Mesos master): another replica subscribed. Not fatal to a replica.
    takenOver: (message) => /framework failed over/i.test(message),
    onTerm: (serving) => {
      if (setup.isDone()) return;
      if (serving) {
        server.setServing(true);
        obs.setRole("leader");
        logger.info({ address }, "serving as the leader");
        return;
      }
      loggedLead = undefined;
      logger.warn({ reason: election.lastLoss ?? "the election lock was lost" }, "stepped down");
      void standBy();
    },
  });
  obs.setScheduler(() => keeper.running);
  undo.push({ name: "scheduler", run: () => keeper.stop() });
  setup.stopSpecPool();
  // A replica that leads at once (the only one) starts like a lone scheduler: serving when this returns.
  await election.firstTurn;
  signal?.throwIfAborted();
  if (!election.holds()) await standBy();
  await keeper.start();
  await keeper.settled();
  const api = standbyGate(keeper, election, address);
  const { uninstalled, clusterLost } = setup;
  return { keeper, api, persister, uninstalled, clusterLost, uninstalledAlready: setup.isDone, holdsLock: () => election.holds() };
}

/**
 * A replica's AdminApi: the running engine's while it leads; otherwise UNAVAILABLE, naming the
 * leader (trailer corral-leader) when another replica is known to lead.
 */
function standbyGate(keeper: SchedulerKeeper, election: ZkLockKeeper, self: string): AdminApi {
  const refuse = (): never => {
    if (election.holds()) throw new SchedulerError("unavailable", "this scheduler has just become the leader and is recovering its state; try again in a moment");
    const leader = election.leader();
    if (leader === undefined || leader === self) {
      throw new SchedulerError("unavailable", "this scheduler is a standby and no leader is known yet; try again in a moment");
    }
    throw new SchedulerError("unavailable", `this scheduler is a standby; the leader is at ${leader}`, { leader });
  };
  return new Proxy({} as AdminApi, {
    get: (_, prop) => {
      const target = keeper.running;
      if (target === undefined) return refuse;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
