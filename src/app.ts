/**
 * Builds a running Corral from resolved options: the adapters, the scheduler and the gRPC
 * server. Shared by `main.ts`, the end-to-end tests and the benchmarks so they run the same
 * wiring the user runs.
 */
import type pino from "pino";
import { resolve } from "node:path";
import { hostname } from "node:os";
import { SimulatedCluster } from "./adapters/cluster/simulated-cluster.js";
import { loadApiSecurity } from "./adapters/grpc/auth.js";
import { AdminServer } from "./adapters/grpc/server.js";
import { secretsAccess } from "./adapters/grpc/secrets-access.js";
import { acquireDataDirLock } from "./adapters/file-lock.js";
import { openCluster } from "./app-cluster.js";
import type { Parts } from "./app-engine.js";
import { engineSetup } from "./app-engine.js";
import { bindApi } from "./app-listen.js";
import { startReplica } from "./app-replica.js";
import { stopSteps } from "./app-stop.js";
import type { StopStep } from "./app-stop.js";
import { SchedulerError } from "./domain/errors.js";
import type { ResolvedOptions } from "./config.js";
import type { AdminApi } from "./engine/admin-api.js";
import type { ClusterDriver, Persister } from "./engine/ports.js";
import type { MultiServiceScheduler } from "./engine/scheduler.js";
import type { StaticServiceFile } from "./engine/scheduler-parts.js";
import { SchedulerKeeper } from "./engine/scheduler-keeper.js";
import { loadStaticFiles } from "./static-files.js";
import { isReplicated, openStore, takesDataDirLock, usesDataDir } from "./store-open.js";
import type { Observability } from "./observability.js";
import { startObservability } from "./observability.js";

export { StopDeadlineError, stopSteps } from "./app-stop.js";
export type { StopStep } from "./app-stop.js";
export { extraRoles } from "./app-cluster.js";

export interface Corral {
  /**
   * The running scheduler (a fresh one after the store lock was lost and held again, or after a
   * replica led again). Throws UNAVAILABLE on a replica that has not led yet.
   */
  readonly scheduler: MultiServiceScheduler;
  readonly server: AdminServer;
  /** The cluster driver (a replica's current term's; throws UNAVAILABLE on a standby). */
  readonly cluster: ClusterDriver;
  readonly persister: Persister;
  /** The address the API listens on (port resolved when 0 was asked for). */
  readonly address: string;
  /** "host:port" of the Prometheus `/metrics` endpoint; undefined when metrics are off. */
  readonly metricsAddress: string | undefined;
  /** Settles once a whole-scheduler uninstall (`options.uninstall`) has finished. */
  readonly uninstalled: Promise<void>;
  /** Settles with the reason when the cluster no longer serves this framework: the process must stop. */
  readonly clusterLost: Promise<string>;
  /**
   * The API stops taking calls (5 s grace for calls in flight), then the parts stop in the reverse
   * of their start. Rejects with a StopDeadlineError when that takes longer than `stopDeadlineMs`.
   */
  stop(): Promise<void>;
}

/**
 * How long a whole stop may take (API grace, scheduler drain, cluster and store close) before
 * the process gives up on it: 15 s, inside systemd's 90 s and Kubernetes' 30 s before SIGKILL.
 */
export const DEFAULT_STOP_DEADLINE_MS = 15_000;

/** How the process runs the app: not command-line options. */
export interface AppOptions {
  /**
   * Aborting it while starting stops the start-up (waits for the port or a lock included): what
   * was set up is undone and startCorral rejects with `signal.reason`.
   */
  readonly signal?: AbortSignal;
  /** @default DEFAULT_STOP_DEADLINE_MS */
  readonly stopDeadlineMs?: number;
}

export async function startCorral(options: ResolvedOptions, logger: pino.Logger, app: AppOptions = {}): Promise<Corral> {
  const { signal } = app;
  // The spec files of static and mono mode, and API security, first: a missing file, a refused
  // listen address or a bad token/TLS file stops before the port is bound or the store opens.
  // An uninstall removes what is stored: it needs no spec file (one may be gone already).
  const staticServices = options.uninstall ? [] : loadStaticFiles(options);
  const security = loadApiSecurity(options.listen, options);
  // Then the port, before anything touches the data directory: a port in use is refused with
  // nothing written. Until the scheduler has started, health says NOT_SERVING and admin calls
  // answer UNAVAILABLE.
  // Metrics first: /metrics answers while the port or the store is waited for, and on a standby.
  const obs = await startObservability(options, logger);
  const gate = startingGate();
  const server = new AdminServer({ api: gate.api, logger, ...security, secrets: secretsAccess(options.cluster, options), observer: obs.observer });
  server.setServing(false);
  obs.setRole("starting");
  const undo: StopStep[] = [{ name: "observability", run: () => obs.close() }];
  // The API stops taking calls first; then the parts stop in the reverse of their start.
  const stop = async (graceMs: number): Promise<void> => {
    undo.push({ name: "api server", run: () => server.stop(graceMs) });
    await stopSteps(undo, app.stopDeadlineMs ?? DEFAULT_STOP_DEADLINE_MS);
  };
  try {
    const deadline = Date.now() + options.waitForLockMs;
    const { host, port } = await bindApi(server, options.listen, deadline, logger, signal);
    const address = `${host.includes(":") ? `[${host}]` : host}:${port}`;
    const parts = isReplicated(options)
      ? await startReplica(options, staticServices, logger, server, obs, advertiseAddress(options, host, port), undo, signal)
      : await startParts(options, staticServices, logger, server, obs, deadline, undo, signal);
    signal?.throwIfAborted();
    gate.open(parts.api);
    if (!isReplicated(options) && !parts.uninstalledAlready() && parts.holdsLock()) server.setServing(true);
    logger.info(
      {
        address,
        cluster: options.cluster,
        store: options.store,
        mode: options.mode,
        ...(usesDataDir(options) ? { dataDir: resolve(options.dataDir) } : {}),
        ...(obs.metricsAddress !== undefined ? { metrics: obs.metricsAddress } : {}),
        // A replica's gRPC port serves a standby too (redirects, health): say which it is now.
        ...(isReplicated(options) ? { role: parts.holdsLock() ? "leader" : "standby" } : {}),
      },
      "corral is serving",
    );
    const { keeper, persister, uninstalled, clusterLost } = parts;
    return {
      clusterLost,
      get scheduler() {
        return keeper.scheduler;
      },
      get cluster() {
        const driver = keeper.cluster;
        if (!driver) throw new SchedulerError("unavailable", "this replica does not lead: it holds no cluster driver");
        return driver;
      },
      persister,
      uninstalled,
      server,
      address,
      metricsAddress: obs.metricsAddress,
      stop: () => stop(5000),
    };
  } catch (err) {
    const undoFailure = await stop(0).then(() => undefined, (e: unknown) => e);
    // Stopped on request, a stop that failed or ran out of time is what went wrong.
    if (signal?.aborted && undoFailure !== undefined) throw undoFailure;
    throw err;
  }
}

/**
 * The address a replica names as the leader's (its election node's data): --advertise-address,
 * else the API's as bound, a wildcard host replaced by this machine's name.
 */
export function advertiseAddress(options: Pick<ResolvedOptions, "advertiseAddress">, host: string, port: number): string {
  if (options.advertiseAddress !== undefined) return options.advertiseAddress;
  const bare = host.replace(/^\[|\]$/g, "");
  const named = bare === "0.0.0.0" || bare === "::" || bare === "" ? hostname() : bare;
  return `${named.includes(":") ? `[${named}]` : named}:${port}`;
}

/**
 * The data directory's lock, the store, the cluster and the started scheduler. Each part pushes
 * how to stop it onto `undo`, run last first: the scheduler stops first, the lock goes last.
 */
async function startParts(
  options: ResolvedOptions,
  staticServices: readonly StaticServiceFile[],
  logger: pino.Logger,
  server: AdminServer,
  obs: Observability,
  deadline: number,
  undo: StopStep[],
  signal: AbortSignal | undefined,
): Promise<Parts> {
  const dirLock = takesDataDirLock(options)
    ? await acquireDataDirLock(options.dataDir, { waitMs: Math.max(0, deadline - Date.now()), ...(signal ? { signal } : {}) })
    : undefined;
  if (dirLock) undo.push({ name: "data-directory lock", run: () => dirLock.release() });
  signal?.throwIfAborted();
  const { persister, fence, release } = await openStore(options, logger, signal, dirLock);
  // release before closing: a ZooKeeper lock node goes with its session
  undo.push({ name: "store", run: () => persister.close() }, { name: "store lock", run: release });
  signal?.throwIfAborted();
  const setup = engineSetup(options, staticServices, logger, server, obs, persister, fence, undo);
  // The wrapper is what the engine sees; the simulated cluster itself is what must stop.
  const opened = await openCluster(options, setup.clock, setup.random, logger);
  const cluster = obs.wrapDriver(opened);
  undo.push({
    name: "cluster",
    run: async () => {
      await cluster.close();
      if (opened instanceof SimulatedCluster) opened.stop();
    },
  });
  // After the store lock was lost and held again, the keeper starts a fresh engine.
  const keeper = new SchedulerKeeper({ ...setup.deps, driver: cluster }, setup.schedulerOptions);
  obs.setScheduler(() => keeper.running);
  undo.push({ name: "scheduler", run: () => keeper.stop() });
  setup.stopSpecPool();
  signal?.throwIfAborted();
  await keeper.start();
  obs.setRole("leader");
  // Health tells a supervisor or load balancer that this scheduler may not act: NOT_SERVING
  // while the store lock is lost (on SQLite until a restart, a data-directory lock taken by
  // another process never comes back), SERVING again once it is held.
  const unwatch = fence?.watch?.((holds) => {
    if (setup.isDone()) return;
    server.setServing(holds);
    obs.setRole(holds ? "leader" : "starting");
    if (holds) logger.info({}, "store lock held again: serving");
    else logger.error({}, "store lock lost: health NOT_SERVING, no write is made until it is held again");
  });
  if (unwatch) undo.push({ name: "store lock watch", run: async () => unwatch() });
  const { uninstalled, clusterLost } = setup;
  return { keeper, api: keeper.api, persister, uninstalled, clusterLost, uninstalledAlready: setup.isDone, holdsLock: () => fence?.holds() ?? true };
}

/**
 * The AdminApi the server is made with before the scheduler exists: every call answers
 * UNAVAILABLE ("starting") until `open(scheduler)`, then goes to the scheduler.
 */
function startingGate(): { api: AdminApi; open(target: AdminApi): void } {
  let target: AdminApi | undefined;
  const starting = (): never => {
    throw new SchedulerError("unavailable", "the scheduler is starting; try again in a moment");
  };
  const api = new Proxy({} as AdminApi, {
    get: (_, prop) => {
      if (target === undefined) return starting;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { api, open: (t) => (target = t) };
}

