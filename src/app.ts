/**
 * Builds a running Corral from resolved options: the adapters, the scheduler and the gRPC
 * server. Shared by `main.ts`, the end-to-end tests and the benchmarks so they run the same
 * wiring the user runs.
 */
import type pino from "pino";
import { CryptoRandom, SystemClock } from "./adapters/clock.js";
import { ensureAgent } from "./adapters/cluster/agent/daemon.js";
import { DEFAULT_PORTS, parsePortRanges } from "./adapters/cluster/agent/free-ports.js";
import { cgroupSupport } from "./adapters/cluster/agent/runtime/cgroups.js";
import { MesosDriver, parseMasterAddress } from "./adapters/cluster/mesos/driver.js";
import { SimulatedCluster } from "./adapters/cluster/simulated-cluster.js";
import { hostOf, loadApiSecurity } from "./adapters/grpc/auth.js";
import { AdminServer } from "./adapters/grpc/server.js";
import { secretsAccess } from "./adapters/grpc/secrets-access.js";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { acquireDataDirLock } from "./adapters/file-lock.js";
import { installSocketDataGuard } from "./adapters/persister/zookeeper/guard.js";
import { SpecWorkerPool, pooledServiceFactory } from "./adapters/spec-worker/pool.js";
import { SchedulerError } from "./domain/errors.js";
import type { ResolvedOptions } from "./config.js";
import type { ClusterCapabilities } from "./domain/spec/driver-notes.js";
import type { AdminApi } from "./engine/admin-api.js";
import type { ClusterDriver, Persister, WriteFence } from "./engine/ports.js";
import type { MultiServiceScheduler } from "./engine/scheduler.js";
import { DEFAULT_RUNNER_OPTIONS } from "./engine/scheduler.js";
import type { SchedulerOptions, StaticServiceFile } from "./engine/scheduler-parts.js";
import { RESTART_RETRY_MS, SchedulerKeeper } from "./engine/scheduler-keeper.js";
import { specServiceFactory } from "./engine/service-factory.js";
import { loadStaticFiles } from "./static-files.js";
import { isReplicated, openStore, takesDataDirLock, usesDataDir } from "./store-open.js";
import type { Observability } from "./observability.js";
import { startObservability } from "./observability.js";
import type { ZkLockKeeper } from "./adapters/persister/zookeeper/zk-lock-keeper.js";

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

/** How to stop one part; `name` is what a stop that ran out of time reports as unfinished. */
export interface StopStep {
  readonly name: string;
  run(): Promise<unknown>;
}

/** A stop that did not finish within its deadline; `unfinished` names the steps left running or not begun. */
export class StopDeadlineError extends Error {
  constructor(
    readonly unfinished: readonly string[],
    readonly deadlineMs: number,
  ) {
    super(`the stop did not finish within ${deadlineMs} ms: ${unfinished.join(", ")} did not stop`);
    this.name = "StopDeadlineError";
  }
}

/**
 * Runs the stop steps last pushed first, each once (taken off `steps`); the first failure is
 * thrown after all ran. Rejects with StopDeadlineError once `deadlineMs` has passed; the step
 * then running is abandoned, not cancelled.
 */
export async function stopSteps(steps: StopStep[], deadlineMs: number): Promise<void> {
  const order = steps.splice(0).reverse();
  let current = 0;
  const runAll = async (): Promise<void> => {
    let failure: unknown;
    for (; current < order.length; current++) {
      try {
        await order[current]!.run();
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw failure;
  };
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new StopDeadlineError(order.slice(current).map((s) => s.name), deadlineMs)), deadlineMs);
  });
  try {
    await Promise.race([runAll(), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}

interface Parts {
  readonly keeper: SchedulerKeeper;
  /** What the API serves once started. */
  readonly api: AdminApi;
  readonly persister: Persister;
  readonly uninstalled: Promise<void>;
  readonly clusterLost: Promise<string>;
  uninstalledAlready(): boolean;
  holdsLock(): boolean;
}

/** The engine's deps and options shared by a lone scheduler and a replica, with the promises it settles. */
function engineSetup(
  options: ResolvedOptions,
  staticServices: readonly StaticServiceFile[],
  logger: pino.Logger,
  server: AdminServer,
  obs: Observability,
  persister: Persister,
  fence: WriteFence | undefined,
  undo: StopStep[],
) {
  const clock = new SystemClock({ unref: false });
  const random = new CryptoRandom();
  // PutService specs are built in worker threads (started on first use); recovery builds inline.
  const specPool =
    options.specWorkers > 0
      ? new SpecWorkerPool({ size: options.specWorkers, fallback: specServiceFactory, log: logger.child({ component: "spec-workers" }) })
      : undefined;
  let done = false;
  let markUninstalled = (): void => undefined;
  const uninstalled = new Promise<void>((resolve) => (markUninstalled = resolve));
  let markClusterLost = (_: string): void => undefined;
  const clusterLost = new Promise<string>((resolve) => (markClusterLost = resolve));
  const deps = {
    persister: obs.wrapPersister(persister),
    ...(specPool ? { factory: pooledServiceFactory(specPool, specServiceFactory) } : {}),
    clock,
    random,
    log: logger,
    tracer: obs.tracer,
    ...(fence ? { fence } : {}),
    onUninstalled: () => {
      done = true;
      server.setServing(false);
      markUninstalled();
    },
    onClusterFatal: (message: string) => {
      server.setServing(false);
      markClusterLost(message);
    },
  };
  const schedulerOptions: SchedulerOptions = {
    ...DEFAULT_RUNNER_OPTIONS,
    // Mono: the one service's reservations carry no namespace label, as the reference's mono schedulers write them.
    framework: { name: options.frameworkName, role: options.role, principal: options.principal, mono: options.mode === "mono" },
    serviceMode: options.mode,
    staticServices,
    removalTimeoutMs: options.serviceRemovalTimeoutMs,
    uninstall: options.uninstall,
    events: { maxEvents: options.eventRetention, maxAgeMs: options.eventMaxAgeMs },
    maxParallelDeploys: options.maxParallelDeploys,
    replaceUnreachableAfterMs: options.replaceUnreachableAfterMs,
    clusterCapabilities: capabilities(options),
  };
  // Stopped before the scheduler drains (pushed after it): a put still waiting for its build then
  // fails (UNAVAILABLE) instead of storing a service after its call was cancelled by the API's stop.
  const stopSpecPool = (): void => {
    if (specPool) undo.push({ name: "spec workers", run: () => specPool.close() });
  };
  return { clock, random, deps, schedulerOptions, uninstalled, clusterLost, stopSpecPool, isDone: () => done };
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
 * A replica on a ZooKeeper store: joins the election and stands by (admin calls answer
 * UNAVAILABLE naming the leader, health per `setStandby`); while it leads, a term runs with a
 * new cluster driver and a fresh engine (scheduler-keeper.ts). No data-directory lock: replicas
 * share the data directory and its local agent.
 */
async function startReplica(
  options: ResolvedOptions,
  staticServices: readonly StaticServiceFile[],
  logger: pino.Logger,
  server: AdminServer,
  obs: Observability,
  address: string,
  undo: StopStep[],
  signal: AbortSignal | undefined,
): Promise<Parts> {
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
  // "leading" is logged as the lock is taken, before the term's recovery: the span between it
  // and "stepped down" covers every write of the term (what a check for two leaders compares).
  const unwatch = election.watch((holds) => holds && leading());
  undo.push({ name: "election watch", run: async () => unwatch() });
  if (election.holds()) leading();
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

/**
 * Binds the API's port. A port already in use is refused with one line naming the address and
 * --listen; while `deadline` (now + --wait-for-lock) has not passed, an address in use is tried
 * again every 250 ms — a scheduler being replaced frees its port before its lock. An aborted
 * `signal` ends the wait with `signal.reason`, nothing bound.
 */
async function bindApi(
  server: AdminServer,
  address: string,
  deadline: number,
  logger: pino.Logger,
  signal: AbortSignal | undefined,
): Promise<{ host: string; port: number }> {
  const host = hostOf(address);
  const port = Number(address.slice(address.lastIndexOf(":") + 1));
  for (let waiting = false; ; waiting = true) {
    signal?.throwIfAborted();
    const problem = port === 0 ? undefined : await portProblem(host, port);
    if (problem === undefined) break;
    if (problem.code !== "EADDRINUSE" || Date.now() >= deadline) throw listenError(address, problem);
    if (!waiting) logger.info({ address, waitMs: deadline - Date.now() }, "the listen address is in use; waiting for it (--wait-for-lock)");
    await sleep(Math.min(250, Math.max(1, deadline - Date.now())), undefined, { signal }).catch(() => undefined);
  }
  try {
    return await server.listen(address);
  } catch (err) {
    throw listenError(address, err);
  }
}

/** Why `host:port` cannot be listened on (a short-lived probe with node:net), or undefined. */
async function portProblem(host: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  const probe = createServer();
  return new Promise((resolve) => {
    probe.once("error", (err: NodeJS.ErrnoException) => resolve(err));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(undefined)));
  });
}

const LISTEN_REASONS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EACCES: "permission denied (ports below 1024 need privileges)",
  EADDRNOTAVAIL: "address not available on this machine",
  ENOTFOUND: "unknown host",
  EAI_AGAIN: "host name lookup failed",
};

/** `cannot listen on 127.0.0.1:50051: address already in use (choose another with --listen)` */
function listenError(address: string, err: unknown): SchedulerError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = (code !== undefined ? LISTEN_REASONS[code] : undefined) ?? (err instanceof Error ? err.message : String(err));
  return new SchedulerError("failed_precondition", `cannot listen on ${address}: ${reason} (choose another with --listen)`, { cause: err });
}

/**
 * The cluster: this machine through the local agent (`local`, started when none runs on its
 * state directory), a Mesos master (`mesos`) — both through the Mesos driver — or the
 * in-process simulated cluster (`sim`).
 */
async function openCluster(options: ResolvedOptions, clock: SystemClock, random: CryptoRandom, logger: pino.Logger): Promise<ClusterDriver> {
  const roles = extraRoles(options);
  if (options.cluster === "sim") return new SimulatedCluster({ agents: options.simAgents, clock, random, roles });
  const log = logger.child({ component: "mesos-driver" });
  const common = { user: options.frameworkUser, clock, random, log, ...(roles.length > 0 ? { roles } : {}) };
  if (options.cluster === "mesos") {
    const secret = options.mesosSecretFile ? readFileSync(options.mesosSecretFile, "utf8").split("\n")[0]!.trim() : undefined;
    const master = parseMasterAddress(options.master ?? "");
    // The library's reply parser can throw from a socket handler: the guard turns that into a lost connection.
    if (master.kind === "zk") installSocketDataGuard();
    return new MesosDriver({
      ...common,
      master,
      ...(secret !== undefined ? { credential: { principal: options.principal, secret } } : {}),
      ...(options.mesosCaFile ? { caFile: options.mesosCaFile } : {}),
    });
  }
  refuseOldLocalCluster(options.dataDir);
  const config = {
    stateDir: resolve(options.agentDir),
    agents: options.localAgents,
    ...(options.agentResources ? { resources: options.agentResources } : {}),
    ...(options.agentPorts ? { ports: options.agentPorts } : {}),
    ...(options.agentPreReserved ? { preReserved: options.agentPreReserved } : {}),
  };
  const agent = await ensureAgent(config);
  if (agent.started) logger.info({ pid: agent.pid, stateDir: resolve(options.agentDir) }, "started the local agent (`corral agent status` tells about it, `corral agent stop` stops it)");
  else logger.info({ pid: agent.pid, stateDir: resolve(options.agentDir) }, "using the running local agent");
  // An agent that died (killed, crashed) is started again before the driver resubscribes.
  const restartAgent = async (): Promise<void> => {
    const again = await ensureAgent(config);
    if (again.started) logger.warn({ pid: again.pid, stateDir: config.stateDir }, "the local agent was gone; started it again");
  };
  return new MesosDriver({ ...common, master: { kind: "unix", socketPath: agent.socketPath }, files: true, beforeSubscribe: restartAgent });
}

/**
 * Roles the framework subscribes with besides its own: `R/<role>` below each pre-reserved role
 * R, so offers of R's statically reserved resources come to it and it may refine them (§9.1).
 */
export function extraRoles(options: Pick<ResolvedOptions, "preReservedRoles" | "role">): string[] {
  return options.preReservedRoles.map((r) => `${r}/${options.role}`);
}

/** What the cluster driver can do, for the per-driver warnings of PutService (driver-notes.ts). */
function capabilities(options: Pick<ResolvedOptions, "cluster" | "preReservedRoles" | "agentPorts">): ClusterCapabilities {
  const roles = { preReservedRoles: options.preReservedRoles };
  if (options.cluster !== "local") return { kind: options.cluster, cgroups: false, ...(options.cluster === "mesos" ? roles : {}) };
  // The local agent runs as this user: cgroup limits need root and a cgroup hierarchy. It has
  // no GPUs, and offers only its configured ports.
  const ports = options.agentPorts ? parsePortRanges(options.agentPorts) : DEFAULT_PORTS;
  return { kind: "local", cgroups: cgroupSupport().ok, ...roles, gpus: false, ports };
}

/** Before issue 14 the local cluster ran inside the scheduler; its state cannot be carried over. */
function refuseOldLocalCluster(dataDir: string): void {
  const old = join(resolve(dataDir), "local", "cluster.json");
  if (!existsSync(old)) return;
  throw new SchedulerError(
    "failed_precondition",
    `${old} holds the state of the old in-process local cluster, which this Corral no longer runs (the local agent replaced it). ` +
      `Its tasks may still run under their supervisors. Reset it: stop them with \`pkill -f supervisor.mjs\`, then \`rm -rf ${resolve(dataDir)}\` ` +
      `(services are put again afterwards), or start with another --data-dir.`,
  );
}
